"""How long the ``dialogue`` command takes to start, against ``python -c pass`` in the same run.

Times, as wall clock from spawning the process: ``python -c pass`` (the interpreter alone, the
baseline), ``dialogue --help``, and ``dialogue run`` until it prints its ready line ("Console
session: ...") on a terminal (a pseudo-terminal here), in a folder made by ``dialogue init``
with its SQLite database already made by one untimed run. Each is run --runs times in turn;
the report gives the median and the fastest, and each median's ratio to the baseline's.

    python bench/cli_bench.py --runs 20
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

READY = b"Console session:"
DIALOGUE = Path(sys.executable).with_name("dialogue")


def exited(command: list[str], folder: Path) -> float:
    """Seconds from spawning ``command`` until it exits (status 0)."""
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def ready(command: list[str], folder: Path, timeout: float = 120) -> float:
    """Seconds from spawning ``command`` on a terminal until it prints its ready line."""
    start = time.perf_counter()
    pid, terminal = pty.fork()
    if pid == 0:
        os.chdir(folder)
        os.execv(command[0], command)
    seen = b""
    try:
        while READY not in seen:
            if not select.select([terminal], [], [], timeout)[0]:
                raise SystemExit(f"{' '.join(command)}: no ready line in {timeout} s: {seen!r}")
            seen += os.read(terminal, 4096)
        took = time.perf_counter() - start
        os.write(terminal, b"\x04")  # Ctrl-D: the console's input ends and the bot stops
        while select.select([terminal], [], [], timeout)[0]:
            try:
                if not os.read(terminal, 4096):
                    break
            except OSError:  # the terminal closes when the bot exits
                break
    finally:
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} stopped with status {status}: {seen!r}")
    return took


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=20, help="runs of each command")
    options.add_argument("--work", type=Path, help="folder for the deployment (default: temp)")
    args = options.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cli-bench-"))
    folder = work / "deployment"
    subprocess.run([str(DIALOGUE), "init", str(folder)], check=True, stdout=subprocess.DEVNULL)
    ready([str(DIALOGUE), "run"], folder)  # makes the database and the key: not timed
    cases: list[tuple[str, Callable[[], float]]] = [
        ("python -c pass", lambda: exited([sys.executable, "-c", "pass"], folder)),
        ("dialogue --help", lambda: exited([str(DIALOGUE), "--help"], folder)),
        ("dialogue run (ready line)", lambda: ready([str(DIALOGUE), "run"], folder)),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    for _ in range(args.runs):  # interleaved, so a busy moment weighs on every case alike
        for name, case in cases:
            times[name].append(case())
    baseline = statistics.median(times["python -c pass"])
    print(f"{args.runs} runs each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'command':<28}{'median s':>10}{'fastest s':>11}{'ratio':>8}")
    for name, took in times.items():
        median = statistics.median(took)
        print(f"{name:<28}{median:>10.3f}{min(took):>11.3f}{median / baseline:>8.1f}")
    if args.work is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
