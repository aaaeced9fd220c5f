"""Browser tests: ``pomdpbench leaderboard`` served, Debian's Chromium loads the page.

One loads the headline table of a small database; the other opens an empty database, sees the
papers' published tables, runs a real smoke sweep (random on classic, about a minute) and sees
its entry beside them after Refresh. The third exports a real sweep as a bundle, submits it to
an empty database and sees the submission listed with its submitter and status (pending), its
runs marked as submitted and not pooled.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the ``selenium`` dev extra;
it starts the server itself on a free port of 127.0.0.1 and stops it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def serve(url: str, cwd: Path) -> Iterator[str]:
    """``pomdpbench leaderboard`` of ``url`` on a free port until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pomdpbench", "leaderboard", "--db", url, "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
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
        stop_group(process)


def stop_group(process: subprocess.Popen[str]) -> None:
    """End the command and its Streamlit child: SIGTERM, then SIGKILL whatever is left.

    Streamlit can ignore SIGTERM while a browser session is open, and the command's exit does
    not end it (the command's own handling of that is another change), so the test makes sure
    nothing it started outlives it.
    """
    os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)  # any member of the group still alive?
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


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
        )
        for i, agent in enumerate(AGENTS)
        for seed in range(3)
    ]
    insert_runs(open_engine(url), runs)
    with serve(url, tmp_path) as address:
        yield address


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Selenium."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("needs Debian's browser: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def tables_html(driver: Any) -> str:
    """The cells of every data frame on the page (the grid mirrors its canvas in the DOM)."""
    from selenium.webdriver.common.by import By

    frames = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    return "".join(frame.get_attribute("innerHTML") or "" for frame in frames)


def test_chromium_loads_the_headline_table(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    wait = WebDriverWait(browser, 90, poll_frequency=0.5)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'))
    wait.until(lambda d: all(a in tables_html(d) for a in AGENTS))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "pomdpbench leaderboard" in text
    assert "sanity · smoke: normalized scores" in text
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')


def test_an_empty_database_shows_the_papers_then_a_smoke_run_beside_them(
    tmp_path: Path, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = f"sqlite:///{tmp_path / 'first-day.db'}"
    open_engine(url).dispose()  # what `pomdpbench reported --sync` or a first run creates
    with serve(url, tmp_path) as address:
        browser.get(address)
        wait = WebDriverWait(browser, 120, poll_frequency=0.5)
        wait.until(
            lambda d: (
                "RESeL paper, Table 4 · 1.5M steps" in d.find_element(By.TAG_NAME, "body").text
            )
        )
        wait.until(lambda d: "2,829 ± 56" in tables_html(d))  # RESeL on AntBLT-P, Table 4
        assert "holds no runs yet" in browser.find_element(By.TAG_NAME, "body").text
        charts = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, charts))  # drawn by Vega-Lite
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pomdpbench",
                "run",
                "--agent",
                "random",
                "--suite",
                "classic",
                "--budget",
                "smoke",
                "--db",
                url,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        browser.find_element(By.XPATH, "//button[.//p[text()='Refresh']]").click()
        wait.until(lambda d: d.find_elements(By.XPATH, "//label[.//p[text()='Published']]"))
        browser.find_element(By.XPATH, "//label[.//p[text()='Published']]").click()
        wait.until(lambda d: "random · smoke" in tables_html(d))
        html = tables_html(browser)
        assert "2,829 ± 56" in html and "reported" in html and "here" in html
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')


def test_an_exported_bundle_submitted_to_an_empty_database_shows_with_its_status(
    tmp_path: Path, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def cli(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "pomdpbench", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]

    mine = f"sqlite:///{tmp_path / 'mine.db'}"
    cli("run", "--agent", "random", "--suite", "sanity", "--budget", "smoke", "--db", mine)
    cli("export", "--agent", "random", "--suite", "sanity", "--out", "random.zip", "--db", mine)
    board = f"sqlite:///{tmp_path / 'board.db'}"
    cli("submit", "random.zip", "--db", board, "--submitter", "browser-submitter")
    with serve(board, tmp_path) as address:
        browser.get(address)
        wait = WebDriverWait(browser, 120, poll_frequency=0.5)
        wait.until(lambda d: "browser-submitter" in tables_html(d))
        html = tables_html(browser)
        assert "random" in html and "pending" in html and "submitted" in html
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "Submissions" in text and "holds no runs yet" in text  # listed, not pooled


def test_chromium_draws_the_training_stability_charts(tmp_path: Path, browser: Any) -> None:
    """The per-task view's "Training stability" section (RESeL Figs. 4-5) renders its charts."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from pomdpbench.registry import get_suite

    task = get_suite("sanity").tasks[0]  # the task the per-task view opens on
    url = f"sqlite:///{tmp_path / 'stability.db'}"
    steps = range(0, 1001, 250)
    runs = [
        SyntheticRun(
            agent,
            task,
            "sanity",
            seed,
            10.0,
            curve=[(s, 1.0) for s in steps],
            train_metrics=[{}]
            + [{"critic_loss": (1 + seed) * k, "policy_grad_norm": 0.1 * k} for k in range(1, 5)],
        )
        for agent in AGENTS
        for seed in range(2)
    ]
    insert_runs(open_engine(url), runs)
    with serve(url, tmp_path) as address:
        browser.get(address)
        wait = WebDriverWait(browser, 120, poll_frequency=0.5)
        view = "//label[.//p[text()='Per task']]"
        wait.until(lambda d: d.find_elements(By.XPATH, view))
        browser.find_element(By.XPATH, view).click()
        wait.until(lambda d: "Training stability" in d.find_element(By.TAG_NAME, "body").text)
        charts = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, charts)) >= 4)
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "gradient norm" in text and "value loss" in text
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
