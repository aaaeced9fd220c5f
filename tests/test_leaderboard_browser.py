"""Browser smoke test: ``pomdpbench leaderboard`` served, Debian's Chromium loads the page.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the ``selenium`` dev extra;
it starts the server itself on a free port of 127.0.0.1 and stops it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AGENTS = ("browser-agent-a", "browser-agent-b")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The leaderboard of a small database of sanity-suite runs, served until the test ends."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    runs = [
        SyntheticRun(
            agent,
            "CartPole-V-v0",
            "sanity",
            seed,
            20.0 + 100 * i + seed,
            curve=[(0, 10.0), (1000, 20.0 + 100 * i)],
        )  # fmt: skip
        for i, agent in enumerate(AGENTS)
        for seed in range(3)
    ]
    insert_runs(open_engine(url), runs)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pomdpbench", "leaderboard", "--db", url, "--port", str(port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{address}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"leaderboard did not start: {output}")
            time.sleep(0.5)
        yield address
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_chromium_loads_the_headline_table(server: str) -> None:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("needs Debian's browser: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(server)
        wait = WebDriverWait(driver, 90, poll_frequency=0.5)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'))
        table = driver.find_element(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
        # the grid draws on a canvas and mirrors its cells in an accessible table in the DOM
        wait.until(lambda _: all(a in (table.get_attribute("innerHTML") or "") for a in AGENTS))
        text = driver.find_element(By.TAG_NAME, "body").text
        assert "pomdpbench leaderboard" in text
        assert "sanity · smoke: normalized scores" in text
        assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    finally:
        driver.quit()
