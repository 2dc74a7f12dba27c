"""How long the ``dialogue`` command takes to start, against ``python -c pass`` in the same run.

Times, as wall clock from spawning the process: ``python -c pass`` (the interpreter alone, the
baseline), ``dialogue --help``, and ``dialogue run`` until it prints its ready line ("Console
session: ...") on a terminal (a pseudo-terminal here), in a folder made by ``dialogue init``
with its SQLite database already made by one untimed run. Each is run --runs times in turn;
the report gives the median and the fastest, and each median's ratio to the baseline's.

It also gives the processor time each took (user and system, median): for ``dialogue run``,
that of its own process (all its threads, not the writer's helper process, which starts on
the other core) until the ready line appeared. On a machine that others load, wall-clock
times grow with the load while processor times stay close to what a quiet machine's wall
clock shows.

    python bench/cli_bench.py --runs 20

Python compiles a module it imports unless it finds the module's bytecode cached. An installed
bot has it (pip, and so the Docker image, compile it when they install), but with
``PYTHONDONTWRITEBYTECODE`` set, as on the project's CI machine, a checkout installed in
editable mode never writes it, and every start compiles the project's own modules again. The
report says which was the case; ``--cached-bytecode`` times with the bytecode cached as an
installed bot has it (in the work folder, written by an untimed run of each command).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pty
import resource
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


Took = tuple[float, float]  # wall-clock seconds, processor seconds


def exited(command: list[str], folder: Path) -> Took:
    """Seconds from spawning ``command`` until it exits (status 0), and its processor time."""
    before = _children_cpu()
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - before


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _process_cpu(pid: int) -> float:
    """Processor seconds a running process used so far (Linux: /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def ready(command: list[str], folder: Path, timeout: float = 120) -> Took:
    """Seconds from spawning ``command`` on a terminal until it prints its ready line, and the
    processor time it used until then."""
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
        took = time.perf_counter() - start, _process_cpu(pid)
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
    options.add_argument(
        "--cached-bytecode",
        action="store_true",
        help="time with compiled bytecode cached, as an installed bot has it",
    )
    args = options.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cli-bench-"))
    folder = work / "deployment"
    if args.cached_bytecode:  # the commands inherit this environment
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "bytecode")
    subprocess.run([str(DIALOGUE), "init", str(folder)], check=True, stdout=subprocess.DEVNULL)
    ready([str(DIALOGUE), "run"], folder)  # makes the database and the key: not timed
    cases: list[tuple[str, Callable[[], Took]]] = [
        ("python -c pass", lambda: exited([sys.executable, "-c", "pass"], folder)),
        ("dialogue --help", lambda: exited([str(DIALOGUE), "--help"], folder)),
        ("dialogue run (ready line)", lambda: ready([str(DIALOGUE), "run"], folder)),
    ]
    if args.cached_bytecode:
        for _, case in cases:  # untimed: each writes the bytecode of what it imports
            case()
    times: dict[str, list[Took]] = {name: [] for name, _ in cases}
    for _ in range(args.runs):  # interleaved, so a busy moment weighs on every case alike
        for name, case in cases:
            times[name].append(case())
    baseline = statistics.median(wall for wall, _ in times["python -c pass"])
    print(f"{args.runs} runs each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"bytecode: {_bytecode(args.cached_bytecode)}")
    print(f"{'command':<28}{'median s':>10}{'fastest s':>11}{'ratio':>8}{'CPU s':>8}")
    for name, took in times.items():
        median = statistics.median(wall for wall, _ in took)
        cpu = statistics.median(used for _, used in took)
        fastest = min(wall for wall, _ in took)
        print(f"{name:<28}{median:>10.3f}{fastest:>11.3f}{median / baseline:>8.1f}{cpu:>8.3f}")
    if args.work is None:
        shutil.rmtree(work)


def _bytecode(cached: bool) -> str:
    """Whether the commands found the project's modules compiled, or compiled them each time."""
    if cached:
        return "cached, as installed (--cached-bytecode)"
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        code = importlib.util.find_spec("bot.cli.main")
        assert code is not None and code.origin is not None, "the bot is installed"
        if not Path(importlib.util.cache_from_source(code.origin)).is_file():
            return "not cached (PYTHONDONTWRITEBYTECODE): the bot's modules compiled at each start"
    return "as this environment leaves it"


if __name__ == "__main__":
    main()
