"""How fast the command line answers, against the cost of importing the package.

A command that only lists or refuses something should not pay for torch, rliable or pandas.
Each command below runs in a fresh interpreter (``python -m pomdpbench ...``, what the console
script does), interleaved with ``python -c "import pomdpbench"`` so that load from other
processes hits both sides alike; the median of ``--runs`` wall times is reported for each.
Goal: every command under 0.5 s and at most twice the import.

    python benchmarks/cli_latency.py [--runs N]

The last line is ``cli/import = R``, the largest command / import ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "list suites": ["list", "suites"],
    "list tasks --suite classic": ["list", "tasks", "--suite", "classic"],
    "unknown agent": ["run", "--agent", "no-such-agent", "--suite", "classic"],
}
EXPECTED_STATUS = {"unknown agent": 2}


def wall_time(argv: list[str], expected: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != expected:
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}, expected {expected}:\n{done.stderr}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (default 7)")
    args = parser.parse_args()
    python = sys.executable
    baseline = [python, "-c", "import pomdpbench"]
    wall_time(baseline)  # warm the file cache once before measuring anything
    times: dict[str, list[float]] = {"import": [], **{name: [] for name in COMMANDS}}
    for _ in range(args.runs):
        times["import"].append(wall_time(baseline))
        for name, argv in COMMANDS.items():
            status = EXPECTED_STATUS.get(name, 0)
            times[name].append(wall_time([python, "-m", "pomdpbench", *argv], status))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["import"]
    print(f"{'python -c ' + repr('import pomdpbench'):37s} {base:6.3f} s")
    worst = 0.0
    for name in COMMANDS:
        ratio = medians[name] / base
        worst = max(worst, ratio)
        goal = "ok" if medians[name] < 0.5 and ratio <= 2.0 else "over goal"
        print(f"pomdpbench {name:26s} {medians[name]:6.3f} s  x{ratio:5.2f}  {goal}")
    print(f"cli/import = {worst:.2f}")


if __name__ == "__main__":
    main()
