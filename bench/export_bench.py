"""Export time and peak memory at 100k, 300k and 1M replies, against a raw CSV baseline.

    python bench/export_bench.py [--sizes 100000,300000,1000000] [--runs 3] [--work DIR]

Each size gets a SQLite database filled by bulk inserts (the shipped script's steps, 200
replies a session, one person per 10 replies up to 10,000 people, one vote per 10 replies,
some replies with personal details to redact; texts sealed under their people's keys, as the
bot stores them). Then, each in a fresh process so that peak
memory is its own:
- baseline: the same reply rows read with sqlite3 and written with csv.writer, nothing else
  (texts left sealed: the export's opening them is part of what the ratio measures);
- export: ``dialogue export`` in the research profile (every file: tables in CSV and Parquet,
  transcripts, REFI-QDA, Polis, report, manifest).
Each size runs ``--runs`` times (baseline then export, in turn). Prints one line per run: wall
seconds of each and their ratio, CPU seconds of each and their ratio (the fairer figure on a
busy machine; the export's includes its other processes), and peak resident memory of each;
then the CPU seconds of the export's other processes together (the replies' reader,
``exporters.reply_reader``, the analyses', ``exporters.analyses``, and the fork server both are
forked from) and the highest peak memory of any of them, apart; then, per size, the range of
each ratio and of both peaks over the runs. The other processes are watched from this script's
own process, not from the export's, so the watching costs the export nothing.

With ``--detail`` each run also times the replies' reader alone (``Datasets.reply_batches``: the
query, each text opened, the Arrow columns; in a process of its own after the baseline) and
the export's phases (each phase's function in ``exporters.dataset`` wrapped with a timer), and
prints them on a line of their own below the run's. With ``--tables-only`` the export writes
only its CSV and Parquet tables (no transcripts, REFI-QDA or Polis files; the analyses, the
report and the documents as ever), to tell what those formats cost.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import inspect
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_SESSION = 200  # an hour-long session of 20 people
PER_PERSON = 10
# A large cycle: a council-wide deliberation reaches thousands of people, not a million.
MAX_PEOPLE = 10_000
WORDS = (
    "I think the NHS should be careful with data about my family and my neighbours "
    "because trust takes years to build and a moment to lose"
).split()
PII = ("mail me on jo@example.org", "ring 07700 900123", "I live in E1 6AN", "see www.nhs.uk")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    # CPU seconds of the process (all threads): unlike wall time, not inflated when other
    # work shares the machine.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ChildPeak:
    """The highest peak resident memory, and the CPU seconds, of a process's descendants.

    The export's reader and analyses are children of multiprocessing's fork server, itself the
    export's child, so neither ``RUSAGE_CHILDREN`` (the fork server is never waited for, and
    would count a spawned child's memory at its fork) nor the export's own children will do.
    Each descendant's peak (VmHWM: its own program's) and CPU seconds are read from /proc every
    20 ms while it runs, so growth or CPU in its last 20 ms would be missed. Children are listed
    by the kernel (``/proc/PID/task/*/children``, a few small files): a scan of every process's
    ``/proc/PID/stat`` each 20 ms took about 0.11 s of CPU a second from the process that watched.
    """

    def __init__(self, pid: int) -> None:
        self.pid = str(pid)
        self.mb = 0.0
        self._cpu: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @property
    def cpu(self) -> float:
        """CPU seconds of every descendant seen, as last read."""
        return sum(self._cpu.values())

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.02):
            for pid in _descendants(self.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.mb = max(self.mb, int(line.split()[1]) / 1024)
                # utime and stime, the 14th and 15th fields (after the command in brackets)
                fields = stat.rpartition(")")[2].split()
                self._cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks


def _descendants(pid: str) -> list[str]:
    """The children of process ``pid``, theirs, and so on, as the kernel lists them."""
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the process ended
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:  # the thread ended
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def generate(path: Path, replies: int) -> None:
    """A migrated SQLite database holding ``replies`` replies of one cycle."""
    from bot.content.check import load_library
    from bot.content.scopes import Scope
    from storage import sealed
    from storage._keys import identity_row
    from storage.db import default_keys, upgrade
    from storage.keystore import KeyStore

    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(upgrade(url))
    keys = KeyStore(default_keys(url))
    script = load_library(ROOT).scripts["health-data-intro"]
    prompts = [(i, s.id) for i, s in enumerate(script.steps) if s.kind == "prompt"]
    choices = [s.id for s in script.steps if s.kind == "choice"]
    rng = random.Random(7)
    t0 = datetime(2025, 3, 1, 18, tzinfo=UTC)
    sessions = max(1, replies // PER_SESSION)
    people = max(1, min(replies // PER_PERSON, MAX_PEOPLE))
    groups = max(1, sessions // 10)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    stamp = t0.replace(tzinfo=None).isoformat(sep=" ")
    db.executemany(
        "INSERT INTO groups (id, platform, chat_id, title, created_at) VALUES (?,?,?,?,?)",
        [(g + 1, "telegram", f"-{g}", f"Group {g}", stamp) for g in range(groups)],
    )
    keys.ensure(range(1, people + 1))  # replies and ids are stored sealed, as the bot does
    db.executemany(
        "INSERT INTO identities (id, platform, user_key, sealed_user_id, created_at)"
        " VALUES (?,?,?,?,?)",
        [(*identity_row(keys, p + 1, "telegram", str(p)), stamp) for p in range(people)],
    )
    db.executemany(
        "INSERT INTO consents (participant_id, group_id, consent_version, text_hash, given_at)"
        " VALUES (?,?,'1','h',?)",
        [(p + 1, p % groups + 1, stamp) for p in range(people)],
    )
    # Everyone agreed to take part; every third person to be quoted as well.
    db.executemany(
        "INSERT INTO consent_scopes (participant_id, group_id, scope, agreed_at) VALUES (?,?,?,?)",
        [
            (p + 1, p % groups + 1, scope, stamp)
            for p in range(people)
            for scope in (Scope.PARTICIPATE.value, Scope.QUOTE.value)[: 2 if p % 3 == 0 else 1]
        ],
    )

    def when(s: int, minutes: float) -> str:
        return (t0 + timedelta(hours=s, minutes=minutes)).replace(tzinfo=None).isoformat(sep=" ")

    db.executemany(
        "INSERT INTO sessions (id, group_id, cycle_id, script_id, script_version, status,"
        " step_index, started_at, step_started_at, ended_at, updated_at)"
        " VALUES (?,?,'c1',?,?,'ended',?,?,?,?,?)",
        [
            (f"s{s}", s % groups + 1, script.id, script.version, len(script.steps) - 1,
             when(s, 0), when(s, 55), when(s, 60), when(s, 60))
            for s in range(sessions)
        ],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO step_visits (session_id, step_index, started_at) VALUES (?,?,?)",
        [(f"s{s}", i, when(s, i * 3.5)) for s in range(sessions) for i in range(len(script.steps))],
    )

    def reply(n: int) -> tuple[object, ...]:
        s = n // PER_SESSION
        person = (s % groups) + groups * rng.randrange(max(1, people // groups))
        person = min(person, people - 1)
        index, step = prompts[n % len(prompts)]
        text = " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))
        if n % 50 == 0:
            text += " " + PII[n % len(PII)]
        message = ("telegram", f"-{s % groups}", f"m{n}")
        text = keys.seal(person + 1, text, sealed.reply(person + 1, message))
        return (f"s{s}", person + 1, s % groups + 1, step, *message,
                text, "text", when(s, index * 3.5 + 1 + n % 3))  # fmt: skip

    for start in range(0, replies, 50_000):
        db.executemany(
            "INSERT INTO responses (session_id, participant_id, group_id, step_id, platform,"
            " chat_id, message_id, text, kind, posted_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [reply(n) for n in range(start, min(replies, start + 50_000))],
        )
    db.executemany(
        "INSERT OR IGNORE INTO votes (session_id, participant_id, group_id, step_id, options,"
        " cast_at) VALUES (?,?,?,?,?,?)",
        [
            (f"s{n // PER_SESSION}", n % people + 1, (n // PER_SESSION) % groups + 1,
             choices[n % len(choices)], str(1 + n % 3), when(n // PER_SESSION, 30))
            for n in range(0, replies, 10)
        ],
    )  # fmt: skip
    db.commit()
    db.close()


def baseline(path: Path, out: Path) -> dict[str, float]:
    """The reply rows with their context, straight from sqlite3 into csv.writer."""
    start, cpu = time.perf_counter(), _cpu()
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT r.id, s.cycle_id, g.platform || ':' || g.chat_id, r.session_id, s.script_id,"
        " s.script_version, r.step_id, i.platform, i.sealed_user_id, r.text, r.kind, r.posted_at,"
        " r.edited_at, r.message_id, r.reply_to FROM responses r"
        " JOIN identities i ON i.id = r.participant_id JOIN groups g ON g.id = r.group_id"
        " JOIN sessions s ON s.id = r.session_id ORDER BY r.id"
    )
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        while batch := rows.fetchmany(5000):
            writer.writerows(batch)
    db.close()
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "peak_mb": _peak_mb()}


def reader(path: Path, _: Path) -> dict[str, float]:
    """The cycle's replies read as the export's reader reads them, and nothing written."""
    from storage.datasets import Datasets
    from storage.db import make_engine

    async def run() -> dict[str, float]:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        datasets = Datasets(engine)
        sessions = await datasets.sessions("c1")
        start, cpu, rows = time.perf_counter(), _cpu(), 0
        async for batch in datasets.reply_batches(sessions):
            rows += batch.columns.num_rows
        took = {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "rows": rows}
        await engine.dispose()
        return took

    return {**asyncio.run(run()), "peak_mb": _peak_mb()}


# The export's phases, by the function of ``exporters.dataset`` (or its class) that runs each.
PHASES = (
    ("read_cycle", "read"),
    ("_walk", "walk"),
    ("_analyses_of", "themes"),
    ("published.settle", "disclosure"),
    ("Writers.finish", "finish"),
    ("_documents", "documents"),
)


def _time_phases(took: dict[str, float]) -> None:
    """Wrap each of ``PHASES`` so that its wall seconds add up in ``took``."""
    import exporters.dataset

    def timed(name: str, run: Callable[..., object]) -> Callable[..., object]:
        def add(start: float) -> None:
            took[name] = took.get(name, 0.0) + time.perf_counter() - start

        if inspect.iscoroutinefunction(run):

            @functools.wraps(run)
            async def waited(*args: object, **kwargs: object) -> object:
                start = time.perf_counter()
                try:
                    return await run(*args, **kwargs)
                finally:
                    add(start)

            return waited

        @functools.wraps(run)
        def called(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return run(*args, **kwargs)
            finally:
                add(start)

        return called

    for where, name in PHASES:
        *owner_path, attribute = where.split(".")
        owner: object = exporters.dataset
        for part in owner_path:
            owner = getattr(owner, part)
        setattr(owner, attribute, timed(name, getattr(owner, attribute)))


def export(
    path: Path, out: Path, phases: bool = False, tables_only: bool = False
) -> dict[str, float]:
    """The research export of the cycle, as ``dialogue export`` makes it (timed by phase)."""
    import exporters.dataset
    from bot.content.check import load_library
    from exporters import csv_tables, parquet_tables
    from exporters.dataset import ExportOptions, export_dataset
    from exporters.pseudonymise import Pseudonymiser
    from storage.datasets import Datasets
    from storage.db import make_engine

    library = load_library(ROOT)
    took_by_phase: dict[str, float] = {}
    if phases:
        _time_phases(took_by_phase)
    if tables_only:
        exporters.dataset.FORMATS = (csv_tables.open_writer, parquet_tables.open_writer)

    async def run() -> dict[str, float]:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        options = ExportOptions(out=out, cycle_id="c1", made_by="bench", now=datetime.now(UTC))
        start, cpu = time.perf_counter(), _cpu()
        await export_dataset(Datasets(engine), library, Pseudonymiser(b"k" * 32), options)
        took = {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu}
        await engine.dispose()
        return took

    return {**asyncio.run(run()), "peak_mb": _peak_mb(), **took_by_phase}


def _child(kind: str, db: Path, out: Path, flags: Iterable[str] = ()) -> dict[str, float]:
    """A run in a process of its own; its other processes' CPU counts in its own (``others``)."""
    command = [sys.executable, __file__, "--child", kind, "--db", str(db), "--out", str(out)]
    command += flags
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        with ChildPeak(child.pid) as others:
            printed, _ = child.communicate()
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command, printed)
    found: dict[str, float] = json.loads(printed.strip().splitlines()[-1])
    found["cpu"] += others.cpu
    return {**found, "others_cpu": others.cpu, "others_peak_mb": others.mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--runs", type=int, default=3, help="0: only make the databases")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dialogue-export-bench"))
    parser.add_argument(
        "--detail", action="store_true", help="also the reader alone and the export's phases"
    )
    parser.add_argument(
        "--tables-only", action="store_true", help="the export writes only CSV and Parquet tables"
    )
    parser.add_argument("--child", choices=["baseline", "export", "reader"])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child == "export":
        print(json.dumps(export(args.db, args.out, args.detail, args.tables_only)))
        return
    if args.child:
        print(json.dumps((baseline if args.child == "baseline" else reader)(args.db, args.out)))
        return
    print(f"{'replies':>9} {'run':>3} {'baseline s':>10} {'export s':>9} {'ratio':>6} "
          f"{'baseline cpu':>12} {'export cpu':>10} {'ratio':>6} {'baseline MB':>11} "
          f"{'export MB':>9} {'others cpu':>10} {'others MB':>9}")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        folder = args.work / str(size)
        db = folder / "bench.db"
        if not db.exists():
            folder.mkdir(parents=True, exist_ok=True)
            generate(db, size)
        runs = []
        for run in range(1, args.runs + 1):
            for old in (folder / "export", folder / "baseline.csv"):
                subprocess.run(["rm", "-rf", str(old)], check=True)
            base = _child("baseline", db, folder / "baseline.csv")
            alone = _child("reader", db, folder) if args.detail else None
            flags = [
                f
                for f, on in (("--detail", args.detail), ("--tables-only", args.tables_only))
                if on
            ]
            made = _child("export", db, folder / "export", flags)
            runs.append((made["seconds"] / base["seconds"], made["cpu"] / base["cpu"], made))
            print(
                f"{size:>9,} {run:>3} {base['seconds']:>10.2f} {made['seconds']:>9.2f} "
                f"{runs[-1][0]:>6.1f} {base['cpu']:>12.2f} {made['cpu']:>10.2f} "
                f"{runs[-1][1]:>6.1f} {base['peak_mb']:>11.0f} {made['peak_mb']:>9.0f} "
                f"{made['others_cpu']:>10.2f} {made['others_peak_mb']:>9.0f}",
                flush=True,
            )
            if alone is not None:
                print(
                    f"{'':>13} reader alone {alone['seconds']:.2f} s "
                    f"({alone['seconds'] / base['seconds']:.2f} x baseline), "
                    f"{int(alone['rows']):,} replies; phases (s): "
                    + ", ".join(f"{name} {made.get(name, 0.0):.2f}" for _, name in PHASES),
                    flush=True,
                )
        if not runs:  # --runs 0: the databases made, for runs to come
            continue
        print(
            f"{size:>9,} over {len(runs)} runs: wall ratio {_span(r[0] for r in runs)}, "
            f"cpu ratio {_span(r[1] for r in runs)}, "
            f"export peak MB {_span((r[2]['peak_mb'] for r in runs), 0)}, "
            f"other processes' peak MB {_span((r[2]['others_peak_mb'] for r in runs), 0)}",
            flush=True,
        )


def _span(values: Iterable[float], digits: int = 1) -> str:
    found = sorted(values)
    return f"{found[0]:.{digits}f}-{found[-1]:.{digits}f}"


if __name__ == "__main__":
    main()
