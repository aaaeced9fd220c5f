"""``pomdpbench render``: frames of one Key-to-Door episode as PNGs or a GIF."""

from __future__ import annotations

import numpy as np
from PIL import Image

from pomdpbench.envs.key_to_door import maps


def test_render_writes_one_png_per_step_of_a_key_to_door_episode(cli, workdir):
    result = cli("render", "KeyToDoor-60-v0", "--out", str(workdir / "frames"))
    assert result.status == 0, result.err
    pngs = sorted((workdir / "frames").glob("step_*.png"))
    assert len(pngs) == 1 + 85  # the reset frame, then one per step
    first = np.asarray(Image.open(pngs[0]).convert("RGB"))
    last = np.asarray(Image.open(pngs[-1]).convert("RGB"))
    assert first.shape == last.shape and first.ndim == 3
    colours = {tuple(p) for p in first.reshape(-1, 3)}
    assert maps.COLOURS[maps.PLAYER] in colours and maps.COLOURS[maps.WALL] in colours
    assert maps.COLOURS[maps.DOOR] in {tuple(p) for p in last.reshape(-1, 3)}  # final phase
    assert "85 steps" in result.out


def test_render_gif_holds_the_whole_episode_and_is_reproducible(cli, workdir):
    for folder in ("a", "b"):
        args = ["render", "KeyToDoor-120-v0", "--out", str(workdir / folder), "--format", "gif"]
        assert cli(*args, "--seed", "3").status == 0
    gif = Image.open(workdir / "a" / "episode.gif")
    assert gif.n_frames == 1 + 145
    assert (workdir / "a" / "episode.gif").read_bytes() == (
        workdir / "b" / "episode.gif"
    ).read_bytes()
    assert not list((workdir / "a").glob("*.png"))


def test_render_errors_are_one_line_with_a_fix(cli, workdir):
    result = cli("render", "PointMassGoal-v0", "--out", str(workdir / "x"))
    assert result.status == 2
    assert result.err.startswith("error:") and "rgb_array" in result.err
    assert len(result.err.strip().splitlines()) == 1
    result = cli("render", "KeyToDor-60-v0", "--out", str(workdir / "x"))
    assert result.status == 2 and "did you mean" in result.err
    result = cli("render", "KeyToDoor-60-v0", "--out", str(workdir / "x"), "--fps", "0")
    assert result.status == 2 and "--fps" in result.err
    assert not (workdir / "x").exists()
