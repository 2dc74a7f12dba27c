"""The ``dialogue`` command starts light: help and completion load no database, export or
platform library, ``run`` loads no exporter; and its shell completion works in bash and zsh."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support.cli import ROOT, clean_env, command, dialogue
from tests.support.debian import installed

# Runs the command line in this process, then names the heavy libraries it had loaded.
LOADED = """
import sys
from bot.cli.main import main
try:
    main(sys.argv[1:])
finally:
    print("LOADED", *sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY)))
"""
DATABASE_EXPORT_PLATFORM = (
    "pyarrow",
    "sqlalchemy",
    "alembic",
    "exporters",
    "storage",
    "pydantic",
    "telegram",
    "discord",
    "scipy",
    "matplotlib",
)


def loaded(*args: str, cwd: Path = ROOT, heavy: tuple[str, ...] = DATABASE_EXPORT_PLATFORM) -> str:
    """The heavy libraries ``dialogue ARGS`` loaded, after checking it succeeded."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED.replace("HEAVY", repr(heavy)), *args],
        cwd=cwd,
        env=clean_env({"PYTHONPATH": str(ROOT)}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rsplit("LOADED", 1)[1].strip()


def test_help_loads_no_database_export_or_platform_library() -> None:
    assert loaded("--help") == ""
    assert loaded("export", "--help") == ""
    assert loaded("completion", "bash") == ""


def test_console_run_loads_no_exporter_library(tmp_path: Path) -> None:
    folder = tmp_path / "deployment"
    assert dialogue(None, "init", str(folder)).returncode == 0
    assert loaded("run", cwd=folder, heavy=("pyarrow", "scipy", "matplotlib", "telegram")) == ""
    assert (folder / "dialogue.db").is_file(), "the bot really ran and made its database"
    # Its database now at the newest migration, the next start has nothing to migrate; on
    # SQLite it needs no PostgreSQL driver, the console no Markdown parser, and a bot that
    # seals and opens no text (its writer seals in its own process) no cipher.
    quiet = ("alembic", "mako", "asyncpg", "markdown_it", "cryptography")
    assert loaded("run", cwd=folder, heavy=quiet) == ""


def test_console_is_ready_before_the_scheduler_loads_and_its_first_line_waits_for_it(
    tmp_path: Path,
) -> None:
    """The ready line does not wait for APScheduler; a line typed at once still sets its timer."""
    folder = tmp_path / "deployment"
    assert dialogue(None, "init", str(folder)).returncode == 0
    # A broken translation: the bot starts all the same, and says so when it first loads it.
    broken = folder / "prompts" / "health-data-intro.bn.toml"
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace('review = "draft"', 'review = "perhaps"'), encoding="utf-8")
    # Python reports each import as it finishes, on the same terminal as the ready line.
    env = clean_env({"PYTHONPATH": str(ROOT), "PYTHONPROFILEIMPORTTIME": "1"})
    pid, terminal = pty.fork()
    if pid == 0:
        os.chdir(folder)
        run = command(None, "run")
        os.execve(run[0], run, env)
    try:
        shown = read_until(terminal, b"Console session:", timeout=120)
        os.write(terminal, b"facilitator: /start health-data-intro\n")
        shown += read_until(terminal, b"MOVE ON")
        os.write(terminal, b"\x04")  # Ctrl-D: the bot stops
        shown += read_until(terminal, b"", timeout=60)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, shown.decode(errors="replace")[-2000:]
    ready = shown.index(b"Console session:")
    assert -1 < ready < shown.index(b"apscheduler")
    # Nor for the translations, parsed when a language or (here) a content version needs them.
    assert ready < shown.index(b"translation not used") < shown.index(b"MOVE ON")
    assert shown.count(b"prompts/health-data-intro.bn.toml:") == 1
    # Nor for the card's publishing code, which only a withdrawal or a closing cycle uses.
    assert b"exporters.heard_card" not in shown[:ready]
    # Nor for the cycles' and the datasets' storage, which the scheduler loads once it starts,
    # nor for the disclosure audit, which a summary or a chart loads when first asked for.
    for later in (b"storage.cycles", b"storage.datasets", b"exporters.disclosure"):
        assert later not in shown[:ready], later
    assert b"storage.cycles" in shown[ready:], "the scheduler's start loaded it after all"
    # Nor for SQLAlchemy's ORM, which the asyncio extension's package imports (storage.db).
    assert b"sqlalchemy.ext.asyncio.engine" in shown[:ready]
    assert b"sqlalchemy.orm" not in shown[:ready]
    # Nor for the bot's messages, read (with Babel) when the first one is said.
    assert b"babel" not in shown[:ready]
    assert b"babel.messages.pofile" in shown[ready:]
    # The session's first step has minutes: the scheduler saw the line and stored its timer.
    database = sqlite3.connect(folder / "dialogue.db")
    jobs = [job for (job,) in database.execute("SELECT id FROM scheduler_jobs")]
    database.close()
    assert [job.split(":")[0] for job in jobs] == ["step"]


def test_a_translations_model_is_built_when_a_translation_is_first_read() -> None:
    """The content's models are built when first used: a bot starting builds none of the
    translations' (read after its ready line), and they still validate once asked for."""
    code = """
from pathlib import Path
from bot.content.check import load_library
from bot.content.translation import ScriptTranslation as words
library = load_library(Path("."), "en", lazy=True)
print(words.__pydantic_complete__)
print(library.script_in("health-data-intro", "bn").language, words.__pydantic_complete__)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", "bn True"]


def test_the_writer_helper_loads_no_library_of_the_writer_or_the_bot() -> None:
    """``dialogue run`` starts the writer's helper first, so their imports overlap."""
    code = "import storage.writer_helper, sys; print(*sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = done.stdout.split()
    assert {m.split(".")[0] for m in modules} & {*DATABASE_EXPORT_PLATFORM, "asyncpg", "bot"} == {
        "storage"
    }
    assert [m for m in modules if m.startswith("storage.")] == ["storage.writer_helper"]


def test_the_schema_is_declared_without_the_orm() -> None:
    """The tables are SQLAlchemy Core: declaring them neither imports nor maps ORM classes."""
    code = "import storage.tables, sys; print(*sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = done.stdout.split()
    assert "sqlalchemy.sql" in modules, "the schema really was declared"
    assert [m for m in modules if m.startswith("sqlalchemy.orm")] == []


def test_the_async_engine_is_made_without_the_orm_and_is_the_asyncio_packages_own(
    tmp_path: Path,
) -> None:
    """The engine works, and a later whole import of the extension gives the same classes."""
    url, keys = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path / "x.keys"
    code = f"""
import asyncio, sys
from sqlalchemy import text
from storage.db import make_engine

async def main():
    engine = make_engine("{url}", "{keys}")
    async with engine.begin() as conn:
        print((await conn.execute(text("SELECT 7"))).scalar_one())
    print(sorted(m for m in sys.modules if m.startswith("sqlalchemy.orm")))
    import sqlalchemy.ext.asyncio as whole
    print(isinstance(engine, whole.AsyncEngine), "sqlalchemy.orm" in sys.modules)
    async with engine.connect() as conn:
        print(isinstance(conn, whole.AsyncConnection))
    await engine.dispose()

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["7", "[]", "True True", "True"]


def bash_completes(script: str, line: str) -> list[str]:
    """What bash offers after ``line`` (its last word is being completed)."""
    words = line.split(" ")
    code = (
        f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
        f'COMP_CWORD={len(words) - 1}; _dialogue; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    done = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completes_commands_subcommands_options_and_choices(tmp_path: Path) -> None:
    printed = dialogue(None, "completion", "bash")
    assert printed.returncode == 0, printed.stderr
    script = tmp_path / "dialogue.bash"
    script.write_text(printed.stdout, encoding="utf-8")
    assert bash_completes(str(script), "dialogue ex") == ["export"]
    assert bash_completes(str(script), "dialogue cycle c") == ["create", "close"]
    assert bash_completes(str(script), "dialogue person show --platform t") == ["telegram"]
    assert bash_completes(str(script), "dialogue --config x.toml completion ") == [
        "-h",
        "--help",
        "bash",
        "zsh",
    ]
    # A value the parser cannot list (a path): nothing offered, so bash completes files.
    assert bash_completes(str(script), "dialogue export --out ") == []


def test_zsh_completes_a_command_at_the_prompt(tmp_path: Path) -> None:
    zsh = installed("zsh", "zsh")
    printed = dialogue(None, "completion", "zsh")
    assert printed.returncode == 0, printed.stderr
    script = tmp_path / "dialogue.zsh"
    script.write_text(printed.stdout, encoding="utf-8")
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(str(zsh), [str(zsh), "-f", "-i"])
    try:
        # The marker is split in the typed line, so only zsh's output can show it whole.
        typed = f"autoload -U compinit && compinit -u && source {script} && echo RE''ADY\n"
        os.write(terminal, typed.encode())
        read_until(terminal, b"READY\r\n")
        os.write(terminal, b"dialogue ex\t")
        assert b"dialogue export" in read_until(terminal, b"dialogue export")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


def read_until(terminal: int, wanted: bytes, timeout: float = 30) -> bytes:
    """What the terminal shows until ``wanted`` appears (all of it, if it never does).

    An empty ``wanted`` reads until the program on the terminal has closed it.
    """
    seen, end = b"", time.monotonic() + timeout
    while (not wanted or wanted not in seen) and time.monotonic() < end:
        if select.select([terminal], [], [], 0.2)[0]:
            try:
                read = os.read(terminal, 4096)
            except OSError:  # the terminal closed
                break
            if not read:
                break
            seen += read
    return seen
