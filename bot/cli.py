"""The ``dialogue`` command: run the bot, check content, upgrade the database, export."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from bot import (
    __version__,
    backup_cli,
    cli_export,
    cycle_cli,
    discord_cli,
    group_cli,
    health_cli,
    init_cli,
    invite_cli,
    logs,
    person_cli,
    reach_cli,
    report_cli,
    runner,
)
from bot.app import build, secrets_held
from bot.content.check import collect
from bot.content.problems import ContentError
from bot.private_files import PRIVATE_UMASK
from bot.settings import ConfigError, Settings, load_settings
from bot.usage import USAGE_STATUS, Parser, UsageError
from storage.db import DatabaseProblem, upgrade

DEMO_TRANSCRIPT = Path("prompts") / "demo" / "health-data-intro.txt"


def parser() -> argparse.ArgumentParser:
    """The command line, with --help on every subcommand."""
    top: argparse.ArgumentParser = Parser(
        prog="dialogue", description="Run community deliberations in chat, with consent."
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--config", type=Path, help="settings file (TOML); default: built-in")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot on every enabled platform (the console on the built-in defaults)",
        description="Run the bot on every platform enabled in the settings; the console runs "
        "when none is (or with --console). On the console, type 'NAME: text' to "
        "speak in the group, 'NAME> text' to write to the bot privately, "
        "'NAME edits N: text' and 'NAME deletes N' (N is an input line).",
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="play the shipped example session (in a throwaway database)",
    )
    run.add_argument("--transcript", type=Path, help="read console lines from this file")
    run.add_argument(
        "--console",
        action="store_true",
        help="also run the console when a chat platform (Telegram, Discord) is enabled",
    )
    run.add_argument(
        "--input-id",
        help="console: name this input, so feeding it again (after a crash) stores each "
        "message once; default: a new id for each run",
    )
    run.add_argument(
        "--acknowledge",
        action="store_true",
        help="console: print '[ack N]' once input line N is handled and stored",
    )

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

    cli_export.add_parser(commands)
    cycle_cli.add_parsers(commands)
    group_cli.add_parser(commands)
    discord_cli.add_parser(commands)
    reach_cli.add_parser(commands)
    report_cli.add_parser(commands)
    invite_cli.add_parser(commands)
    init_cli.add_parser(commands)
    person_cli.add_parser(commands)
    health_cli.add_parser(commands)
    backup_cli.add_parser(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dialogue`` command; returns the exit status."""
    # Whatever the bot or a library writes (SQLite's side files too) is its owner's alone.
    os.umask(PRIVATE_UMASK)
    args = parser().parse_args(argv)
    masks = logs.Masks()
    try:
        if args.command == "init":
            return init_cli.run(args)
        settings = load_settings(args.config)
        if args.command == "run" and args.demo:
            demo_dir = Path(tempfile.mkdtemp(prefix="dialogue-demo-"))
            settings.database.url = f"sqlite+aiosqlite:///{demo_dir / 'demo.db'}"
        masks = logs.Masks(secrets_held(settings))
        logs.configure(
            settings.logging.level, settings.logging.file, masks, settings.logging.format
        )
        if args.command == "content":
            return check_content(args.path or settings.content.root)
        if args.command == "report" and not args.learning:
            return report_cli.run(args)
        return asyncio.run(_run_async(args, settings))
    except UsageError as exc:
        print(f"Usage problem: {exc}", file=sys.stderr)
        return USAGE_STATUS
    except ConfigError as exc:
        print(masks(f"Configuration problem:\n{exc}"), file=sys.stderr)
        return 2
    except DatabaseProblem as exc:
        print(masks(f"Database problem: {exc}"), file=sys.stderr)
        return 2
    except ContentError as exc:
        print(f"Content problem (run 'dialogue content check'):\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        # A fault of ours: its traceback helps a report, but never with a secret in it.
        print(masks(traceback.format_exc()), file=sys.stderr, end="")
        return 1


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
    if args.command == "health":
        return await health_cli.run(settings)
    if args.command in ("backup", "restore"):
        return await backup_cli.run(args, settings)
    if args.command == "db":
        await upgrade(settings.database.url, settings.database.keys)
        print("The database is up to date.")
        return 0
    if args.command != "run":
        # Only the running bot gains from a writer process; other commands write little.
        capture = settings.capture.model_copy(update={"writer_process": False})
        settings = settings.model_copy(update={"capture": capture})
    app = await build(settings)
    try:
        if args.command == "export":
            return await cli_export.run(args, app)
        if args.command == "report":
            return await report_cli.learning(args, app)
        if args.command in ("cycle", "schedule"):
            return await cycle_cli.run(args, app)
        if args.command == "group":
            return await group_cli.run(args, app)
        if args.command == "discord":
            return await discord_cli.run(args, app)
        if args.command == "reach":
            return await reach_cli.run(args, app)
        if args.command == "invite":
            return await invite_cli.run(args, app)
        if args.command == "person":
            return await person_cli.run(args, app)
        transcript = settings.content.root / DEMO_TRANSCRIPT if args.demo else args.transcript
        options = runner.RunOptions(
            console=args.console,
            transcript=transcript,
            input_id=args.input_id,
            acknowledge=args.acknowledge,
            console_only=args.demo,
        )
        return await runner.run(app, options)
    finally:
        await app.close()


if __name__ == "__main__":
    raise SystemExit(main())
