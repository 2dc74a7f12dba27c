"""The benchmarks in bench/ still run and report their figures (tiny sizes, not timed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.support.cli import ROOT


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_capture_benchmark_stores_every_reply_it_counts() -> None:
    out = run(
        "bench/capture_bench.py",
        "--groups", "4", "--people", "3", "--messages", "600",
        "--rate", "200", "--paced-seconds", "0.5", "--console", "300", "--json",
    )  # fmt: skip
    results = json.loads(out[out.index("{") :])
    assert results["raw"]["messages"] == 600
    # One busy group through the console: every reply line acknowledged, in fewer commits.
    assert results["console"]["messages"] == 300
    assert results["console"]["stored"] == 300
    assert re.search(r"One group of 3 through the console, 300 replies: [\d,]+ replies/s", out)
    assert results["sqlite"]["messages"] == 600
    assert results["sqlite"]["paced"]["messages"] == 100
    assert results["sqlite"]["rate"] > 0
    assert re.search(r"ratio to the raw sqlite3 ceiling: \d+\.\d\d", out)


def test_export_benchmark_reports_each_run_and_the_range(tmp_path: Path) -> None:
    out = run("bench/export_bench.py", "--sizes", "400", "--runs", "2", "--work", str(tmp_path))
    # replies, run, baseline s, export s, ratio, baseline CPU s, export CPU s, ratio, MB, MB,
    # then the export's other processes (replies' reader, analyses): CPU s, MB
    rows = re.findall(r"^\s*400\s+([12])((?:\s+\d+(?:\.\d+)?){10})\s*$", out, re.MULTILINE)
    assert [run for run, _ in rows] == ["1", "2"], out
    assert all(float(figures.split()[1]) > 0 for _, figures in rows), "the export took time"
    assert all(float(figures.split()[-1]) > 0 for _, figures in rows), "others measured"
    assert re.search(
        r"^\s*400 over 2 runs: wall ratio [\d.]+-[\d.]+, cpu ratio [\d.]+-[\d.]+, "
        r"export peak MB \d+-\d+, other processes' peak MB \d+-\d+$",
        out,
        re.MULTILINE,
    ), out
    assert list(tmp_path.rglob("*.db")), "the benchmark made its database"


def test_export_benchmark_in_detail_reports_the_reader_alone_and_each_phase(
    tmp_path: Path,
) -> None:
    out = run(
        "bench/export_bench.py",
        "--sizes",
        "400",
        "--runs",
        "1",
        "--detail",
        "--work",
        str(tmp_path),
    )
    found = re.search(
        r"reader alone ([\d.]+) s \(([\d.]+) x baseline\), 400 replies; phases \(s\): (.*)$",
        out,
        re.MULTILINE,
    )
    assert found, out
    assert float(found[1]) > 0 and float(found[2]) > 0
    phases = dict(part.split() for part in found[3].split(", "))
    assert list(phases) == ["read", "walk", "themes", "disclosure", "finish", "documents"]
    assert float(phases["walk"]) > 0, "the walk was timed"


def test_export_benchmark_with_tables_only_writes_no_other_format(tmp_path: Path) -> None:
    args = ("--sizes", "300", "--runs", "1", "--tables-only", "--work", str(tmp_path))
    out = run("bench/export_bench.py", *args)
    assert re.search(r"^\s*300 over 1 runs: wall ratio", out, re.MULTILINE), out
    made = {path.name for path in (tmp_path / "300" / "export").iterdir()}
    assert {"responses.csv", "responses.parquet", "report.html"} <= made
    assert not made & {"dialogue.qdpx", "polis", "transcripts"}


def test_export_benchmark_with_no_runs_only_makes_its_database(tmp_path: Path) -> None:
    out = run("bench/export_bench.py", "--sizes", "300", "--runs", "0", "--work", str(tmp_path))
    assert out.splitlines()[1:] == [], "no run and no range"
    assert [p.name for p in tmp_path.rglob("*.db")] == ["bench.db"]


def test_seal_benchmark_reports_the_cost_per_reply() -> None:
    out = run("bench/seal_bench.py", "--replies", "200", "--people", "5", "--runs", "2")
    assert re.search(r"^seal, per reply: \d+\.\d\d µs", out, re.MULTILINE), out
    assert re.search(r"^open, per reply: \d+\.\d\d µs", out, re.MULTILINE), out
    assert re.search(r"^keys for 5 new people, one transaction: \d+\.\d ms", out, re.MULTILINE)


def test_cli_benchmark_reports_each_command_against_the_interpreter(tmp_path: Path) -> None:
    out = run("bench/cli_bench.py", "--runs", "1", "--work", str(tmp_path))
    for command in ("python -c pass", r"dialogue --help", r"dialogue run \(ready line\)"):
        # wall-clock median and fastest, ratio to the interpreter's, processor time
        number = r"\s+\d+\.\d{3}"
        assert re.search(rf"^{command}{number}{number}\s+\d+\.\d{number}$", out, re.M), out
    assert (tmp_path / "deployment" / "dialogue.db").is_file(), "the benchmark ran the bot"


def test_cli_benchmark_times_with_the_bytecode_cached_when_asked(tmp_path: Path) -> None:
    out = run("bench/cli_bench.py", "--runs", "1", "--work", str(tmp_path), "--cached-bytecode")
    assert "bytecode: cached" in out, out
    # The bot's own modules were compiled into the work folder, by the untimed runs.
    compiled = {path.name.split(".")[0] for path in (tmp_path / "bytecode").rglob("*.pyc")}
    assert {"run", "app", "shell", "tables"} <= compiled


def test_settings_benchmark_reports_each_interpreter_against_the_baseline() -> None:
    out = run("bench/settings_bench.py", sys.executable, "--runs", "1", "--rounds", "1")
    figures = re.search(r"pass (\d+\.\d{3}) s, settings (\d+\.\d{3}) s, ratio (\d+\.\d)", out)
    assert figures is not None, out
    assert float(figures[2]) > 0 and float(figures[3]) > 0, out
