"""Processor time to import the settings and read them, against ``python -c pass``.

Each of two interpreters (two checkouts' virtual environments, given as BEFORE and AFTER) runs
``import bot.settings; bot.settings.load_settings(None)`` in a fresh process --runs times, and
``python -c pass`` as many times; processor time (user and system) is the median of the runs,
so a busy machine stretches it far less than the wall clock. Three rounds take turns.

    python bench/settings_bench.py BEFORE/.venv/bin/python AFTER/.venv/bin/python --runs 15
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess

CODE = "import bot.settings as s; s.load_settings(None)"


def cpu(python: str, code: str, runs: int) -> float:
    """The median processor seconds of ``python -c code`` over ``runs`` fresh processes."""
    took = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([python, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        took.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pythons", nargs="+", help="interpreters to compare")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for python in args.pythons:
            base = cpu(python, "pass", args.runs)
            took = cpu(python, CODE, args.runs)
            print(f"{python}: pass {base:.3f} s, settings {took:.3f} s, ratio {took / base:.1f}")


if __name__ == "__main__":
    main()
