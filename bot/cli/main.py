"""The ``dialogue`` command: run the bot, check content, upgrade the database, export."""

from __future__ import annotations

import os
from collections.abc import Sequence

from bot.cli.completion import script
from bot.cli.parser import parser
from bot.private_files import PRIVATE_UMASK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dialogue`` command; returns the exit status."""
    # Whatever the bot or a library writes (SQLite's side files too) is its owner's alone.
    os.umask(PRIVATE_UMASK)
    args = parser().parse_args(argv)
    if args.command == "completion":
        print(script(args.shell), end="")
        return 0
    if args.command == "run":
        # The writer's helper imports its code on another core while we import the bot's.
        from storage.writer_helper import HELPER

        HELPER.start()
    # Imported once the command is known: --help and usage mistakes never load the bot.
    from bot.cli.commands import execute

    return execute(args)


if __name__ == "__main__":
    raise SystemExit(main())
