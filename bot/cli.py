"""The ``dialogue`` command: run the bot, check content, upgrade the database, export."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bot import __version__, logs
from bot.app import App, build
from bot.content.check import collect
from bot.content.problems import ContentError
from bot.platforms.console import ConsolePlatform, stdin_lines
from bot.settings import ConfigError, Settings, load_settings
from exporters.csv_tables import export_csv
from storage.db import upgrade

DEMO_TRANSCRIPT = Path("prompts") / "demo" / "health-data-intro.txt"


def parser() -> argparse.ArgumentParser:
    """The command line, with --help on every subcommand."""
    top = argparse.ArgumentParser(
        prog="dialogue", description="Run community deliberations in chat, with consent."
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--config", type=Path, help="settings file (TOML); default: built-in")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot (the console on the built-in defaults)",
        description="Run the bot. On the console, type 'NAME: text' to "
        "speak in the group, 'NAME> text' to write to the bot privately, "
        "'NAME edits N: text' and 'NAME deletes N' (N is an input line).",
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="play the shipped example session (in a throwaway database)",
    )
    run.add_argument("--transcript", type=Path, help="read console lines from this file")

    content = commands.add_parser("content", help="work with scripts and cards")
    content_commands = content.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = content_commands.add_parser("check", help="validate all content and list problems")
    check.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="content root holding prompts/ and resources/ (default: settings)",
    )

    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply database migrations")

    export = commands.add_parser("export", help="export consented, pseudonymised data")
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.add_argument("--cycle", help="cycle id (default: every cycle)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dialogue`` command; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.command == "run" and args.demo:
            demo_dir = Path(tempfile.mkdtemp(prefix="dialogue-demo-"))
            settings.database.url = f"sqlite+aiosqlite:///{demo_dir / 'demo.db'}"
        logs.configure(settings.logging.level, settings.logging.file)
        if args.command == "content":
            return check_content(args.path or settings.content.root)
        return asyncio.run(_run_async(args, settings))
    except ConfigError as exc:
        print(f"Configuration problem:\n{exc}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print(f"Content problem (run 'dialogue content check'):\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def check_content(root: Path) -> int:
    """Print every content problem; non-zero when any is an error."""
    problems, library = collect(root)
    for problem in problems:
        print(problem)
    errors = sum(not p.warning for p in problems)
    print(
        f"{len(library.scripts)} scripts, {len(library.cards)} cards, "
        f"{len(library.consents)} consent texts; {errors} errors, "
        f"{len(problems) - errors} warnings"
    )
    return 1 if errors else 0


async def _run_async(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        await upgrade(settings.database.url)
        print("The database is up to date.")
        return 0
    app = await build(settings)
    try:
        if args.command == "export":
            counts = await export_csv(
                app.repository, app.library, args.out, app.pseudonymiser, args.cycle
            )
            for name, count in counts.items():
                print(f"{args.out / name}: {count} rows")
            return 0
        transcript = settings.content.root / DEMO_TRANSCRIPT if args.demo else args.transcript
        return await run_console(app, transcript)
    finally:
        await app.close()


async def run_console(app: App, transcript: Path | None) -> int:
    """Run the console platform until its input ends."""
    settings = app.settings
    console = ConsolePlatform(
        settings.console.group, app.texts, settings.content.language, sys.stdout
    )
    app.service.attach(console)
    await console.start()
    if transcript is not None:
        if not transcript.is_file():
            raise ConfigError(f"{transcript}: transcript not found")
        lines: AsyncIterator[str] = _file_lines(transcript)
        echo = True
    else:
        lines, echo = stdin_lines(), not sys.stdin.isatty()
        if not echo:
            print(
                "Console session: type 'facilitator: /start health-data-intro' to begin, "
                "'NAME: text' to speak, 'NAME> text' to write privately; Ctrl-D ends."
            )
    await console.feed(lines, app.service.handle, app.service.clock, echo)
    await console.stop()
    return 0


async def _file_lines(path: Path) -> AsyncIterator[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        yield line


if __name__ == "__main__":
    raise SystemExit(main())
