"""What each ``dialogue`` command does, once :mod:`bot.cli.parser` has read the command line.

A command's module is imported when that command runs, so each command loads only the
libraries it uses (``dialogue run`` never loads the exporters, pyarrow among them).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from bot import logs
from bot.cli.usage import USAGE_STATUS, UsageError
from bot.content.problems import ContentError
from bot.settings import ConfigError, Settings, load_settings
from storage.db import DatabaseProblem

DEMO_TRANSCRIPT = Path("prompts") / "demo" / "health-data-intro.txt"


def execute(args: argparse.Namespace) -> int:
    """Run the command ``args`` names; returns the exit status."""
    masks = logs.Masks()
    demo_dir: Path | None = None
    try:
        if args.command == "init":
            from bot.cli import init

            return init.run(args)
        settings = load_settings(args.config)
        if args.command == "run" and args.demo:
            demo_dir = Path(tempfile.mkdtemp(prefix="dialogue-demo-"))
            settings.database.url = f"sqlite+aiosqlite:///{demo_dir / 'demo.db'}"
        if args.command == "run" and not settings.capture.writer_process:
            from storage.writer_helper import HELPER

            HELPER.stop()  # started by bot.cli.main before the settings were read: not needed
        from bot.app import secrets_held

        masks = logs.Masks(secrets_held(settings))
        logs.configure(
            settings.logging.level, settings.logging.file, masks, settings.logging.format
        )
        if args.command == "content":
            return check_content(args.path or settings.content.root, settings.content.language)
        if args.command == "report" and not args.learning:
            from bot.cli import report

            return report.run(args)
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
    finally:
        if demo_dir is not None:  # the demo's database is thrown away with its keys
            shutil.rmtree(demo_dir, ignore_errors=True)


def check_content(root: Path, language: str) -> int:
    """Print every content problem; non-zero when any is an error."""
    from bot.content.catalogue_check import catalogue_problems
    from bot.content.check import collect
    from bot.texts import Catalogue

    problems, library = collect(root, language)
    problems += catalogue_problems(Catalogue.load(language))
    for problem in problems:
        print(problem)
    errors = sum(not p.warning for p in problems)
    print(
        f"{len(library.scripts)} scripts, {len(library.cards)} cards, "
        f"{len(library.consents)} consent texts, {len(library.translations)} translations; "
        f"{errors} errors, "
        f"{len(problems) - errors} warnings"
    )
    return 1 if errors else 0


async def _run_async(args: argparse.Namespace, settings: Settings) -> int:
    # Each branch imports its command's module: only that command's libraries load.
    if args.command == "health":
        from bot.cli import health

        return await health.run(settings)
    if args.command in ("backup", "restore"):
        from bot.cli import backup

        return await backup.run(args, settings)
    if args.command == "db" and args.action == "downgrade":
        from storage.db import downgrade

        await downgrade(settings.database.url, args.revision, settings.database.keys)
        print(f"The database is back at migration {args.revision}.")
        return 0
    if args.command == "db":
        from storage.db import upgrade

        await upgrade(settings.database.url, settings.database.keys)
        print("The database is up to date.")
        return 0
    if args.command != "run":
        # Only the running bot gains from a writer process; other commands write little.
        capture = settings.capture.model_copy(update={"writer_process": False})
        settings = settings.model_copy(update={"capture": capture})
    from bot.app import build

    app = await build(settings)
    try:
        if args.command == "export":
            from bot.cli import export

            return await export.run(args, app)
        if args.command in ("cycle", "schedule"):
            from bot.cli import cycle

            return await cycle.run(args, app)
        if args.command == "group":
            from bot.cli import group

            return await group.run(args, app)
        if args.command == "discord":
            from bot.cli import discord as discord_cli

            return await discord_cli.run(args, app)
        if args.command == "report":
            from bot.cli import report

            return await report.learning(args, app)
        if args.command == "reach":
            from bot.cli import reach

            return await reach.run(args, app)
        if args.command == "invite":
            from bot.cli import invite

            return await invite.run(args, app)
        if args.command == "person":
            from bot.cli import person

            return await person.run(args, app)
        from bot.cli import run

        transcript = settings.content.root / DEMO_TRANSCRIPT if args.demo else args.transcript
        options = run.RunOptions(
            console=args.console,
            transcript=transcript,
            input_id=args.input_id,
            acknowledge=args.acknowledge,
            console_only=args.demo,
        )
        return await run.run(app, options)
    finally:
        await app.close()
