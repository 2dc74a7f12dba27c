"""The ``dialogue`` command line's grammar: every command, option and help text.

Built from the standard library alone, so ``dialogue --help`` and shell completion never wait
for the database, export or platform libraries; each command's module is imported by
:mod:`bot.cli.commands` only when that command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from bot import __version__
from bot.cli.usage import Parser
from bot.platforms.registry import names

if TYPE_CHECKING:
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

SHELLS = ("bash", "zsh")


def parser() -> argparse.ArgumentParser:
    """The command line, with --help on every subcommand."""
    top: argparse.ArgumentParser = Parser(
        prog="dialogue", description="Run community deliberations in chat, with consent."
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--config", type=Path, help="settings file (TOML); default: built-in")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _run,
        _content,
        _db,
        _export,
        _cycle_and_schedule,
        _group,
        _discord,
        _reach,
        _report,
        _invite,
        _init,
        _person,
        _health,
        _backup_and_restore,
        _completion,
    ):
        add(commands)
    return top


def _run(commands: Commands) -> None:
    """Add ``run``."""
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


def _content(commands: Commands) -> None:
    """Add ``content check``."""
    content = commands.add_parser("content", help="work with scripts and cards")
    content_commands = content.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = content_commands.add_parser("check", help="validate all content and list problems")
    check.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="content root holding prompts/ and resources/ (default: settings)",
    )


def _db(commands: Commands) -> None:
    """Add ``db upgrade`` and ``db downgrade``."""
    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply database migrations")
    back = db_commands.add_parser(
        "downgrade",
        help="undo database migrations (restoring a backup is the safer way back)",
        description="Undo the migrations after REVISION, newest first. Data of what they "
        "added is lost; take a backup first (dialogue backup).",
    )
    back.add_argument("revision", help="the migration to go back to, e.g. 0012_content")


def _export(commands: Commands) -> None:
    """Add ``export``."""
    export = commands.add_parser(
        "export",
        help="export consented, pseudonymised data (or list erasures owed)",
        description="Write one folder per export: tables as CSV and Parquet, datapackage.json, "
        "README.md, transcripts, a REFI-QDA project, the Polis layout, a cycle report and "
        "MANIFEST.json. 'dialogue export erasures --since ID' lists the pseudonyms that "
        "holders of export ID (and later ones) must delete because their people withdrew.",
    )
    export.add_argument("action", nargs="?", choices=["erasures"], help="list erasures owed")
    export.add_argument("--out", type=Path, help="new folder to write the export into")
    export.add_argument("--cycle", help="cycle id (default: every cycle)")
    export.add_argument(
        "--profile",
        choices=["research", "public"],
        help="research (default, every consented reply by pseudonym) or public (quotes "
        "only from people who agreed, counts suppressed)",
    )
    export.add_argument("--by", help="who is making the export (default: your user name)")
    export.add_argument("--since", type=int, metavar="EXPORT_ID", help="with 'erasures'")


def _cycle_and_schedule(commands: Commands) -> None:
    """Add ``cycle`` and ``schedule``."""
    cycle = commands.add_parser("cycle", help="create, open, close and list dialogue cycles")
    actions = cycle.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="plan a new cycle")
    create.add_argument("id", help="cycle id: lower-case letters, digits, dashes (e.g. 2027-c1)")
    create.add_argument("--title", required=True)
    create.add_argument("--theme", default="", help="what the cycle is about")
    create.add_argument("--start", required=True, help="YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")
    create.add_argument("--end", required=True, help="last day (YYYY-MM-DD) or 'YYYY-MM-DD HH:MM'")
    create.add_argument("--scripts", required=True, help="script ids, comma-separated")
    for name, text in (("open", "open a planned cycle now"), ("close", "close a cycle now")):
        actions.add_parser(name, help=text).add_argument("id")
    actions.add_parser("list", help="list every cycle")
    actions.add_parser("show", help="show one cycle").add_argument("id")

    plan = commands.add_parser("schedule", help="schedule sessions for groups")
    plan_actions = plan.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = plan_actions.add_parser("add", help="schedule a session")
    add.add_argument("group", help="the group as platform:chat_id, e.g. telegram:-100123")
    add.add_argument("script")
    add.add_argument("date", help="YYYY-MM-DD, in schedule.timezone")
    add.add_argument("time", help="HH:MM, in schedule.timezone")
    add.add_argument("--facilitator", help="user id of the facilitator to remind")
    plan_actions.add_parser("list", help="list sessions still to open")
    cancel = plan_actions.add_parser("cancel", help="cancel a scheduled session")
    cancel.add_argument("id", type=int, help="its number, as 'schedule list' shows it")


def _group(commands: Commands) -> None:
    """Add ``group``."""
    group = commands.add_parser("group", help="register the groups that may run sessions")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a group (it may then run sessions)")
    add.add_argument("group", help="PLATFORM:CHAT_ID, e.g. telegram:-1001234567890")
    add.add_argument("--title", help="the group's name, as exports should show it")
    remove = actions.add_parser("remove", help="stop a group starting new sessions")
    remove.add_argument("group", help="PLATFORM:CHAT_ID")
    actions.add_parser("list", help="list registered groups")


def _discord(commands: Commands) -> None:
    """Add ``discord``."""
    discord = commands.add_parser("discord", help="manage the Discord bot")
    actions = discord.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "sync",
        help="update the slash commands in the servers of discord.guilds (or everywhere)",
    )


def _reach(commands: Commands) -> None:
    """Add ``reach``."""
    command = commands.add_parser(
        "reach",
        help="who took part in a cycle, compared with the area's population",
        description="For each profile question, the share of participants giving each answer "
        "against the area's share (resources/baseline.csv), with small counts withheld and the "
        "most under-represented groups marked; then how concentrated replies were in each "
        "session. The same section is in the cycle report of 'dialogue export'.",
    )
    command.add_argument("--cycle", required=True, help="the cycle's id")
    command.add_argument(
        "--threshold",
        type=int,
        help="withhold counts of people below this (default: export.suppression_threshold)",
    )


def _report(commands: Commands) -> None:
    """Add ``report``."""
    command = commands.add_parser(
        "report",
        help="print an export's cycle report to PDF, or write the learning report",
        description="'dialogue report FOLDER --pdf' prints the report.html of an export "
        "folder (made by 'dialogue export') to report.pdf beside it, as headless Chromium "
        "prints it. 'dialogue report --learning --out FOLDER' writes learning.html: reach, "
        "participation, drop-off and time against the plan cycle by cycle, facilitators' "
        "reflections and participants' feedback (with --pdf, learning.pdf too).",
    )
    command.add_argument("folder", nargs="?", type=Path, help="an export folder (with --pdf)")
    command.add_argument("--pdf", action="store_true", help="print the report to PDF")
    command.add_argument("--learning", action="store_true", help="the learning report")
    command.add_argument("--out", type=Path, help="with --learning: a new folder to write to")
    command.add_argument(
        "--profile",
        choices=["research", "public"],
        help="with --learning: research (default) or public (small counts withheld, "
        "no reflections)",
    )


def _invite(commands: Commands) -> None:
    """Add ``invite``."""
    command = commands.add_parser(
        "invite",
        help="print links (and write QR codes) that invite residents into a cycle's dialogue",
        description="For every enabled platform, print how to join the cycle's self-paced "
        "dialogue in a private chat with the bot (or, with --group, how to join that group's "
        "sessions), and write a QR code PNG of each link. Links carry no personal data.",
    )
    command.add_argument("--cycle", required=True, help="the cycle's id")
    command.add_argument("--group", help="a group as platform:chat_id, e.g. telegram:-100123")
    command.add_argument(
        "--out", type=Path, default=Path("."), help="folder for the QR code PNGs (default: .)"
    )
    command.add_argument(
        "--telegram-bot", help="the bot's Telegram username (default: asked from Telegram)"
    )


def _init(commands: Commands) -> None:
    """Add ``init``."""
    init = commands.add_parser(
        "init", help="make a deployment folder: settings file and sample content to edit"
    )
    init.add_argument("folder", type=Path, help="the folder to make (new or empty)")


def _person(commands: Commands) -> None:
    """Add ``person``."""
    person = commands.add_parser(
        "person",
        help="show or erase what is held about one person (requests made to staff)",
        description="For a request that reaches staff outside the chat. 'show' prints what "
        "/mydata would tell the person; 'erase' erases it as /withdraw confirm does.",
    )
    actions = person.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("show", "print what is held about the person"),
        ("erase", "erase everything held about the person (asks to confirm)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--platform", required=True, choices=sorted(names()))
        action.add_argument("--user-id", required=True, help="their user id on that platform")
        if name == "erase":
            action.add_argument(
                "--yes", action="store_true", help="do not ask to confirm (for scripts)"
            )


def _health(commands: Commands) -> None:
    """Add ``health``."""
    commands.add_parser(
        "health",
        help="check the database, migrations, tokens, scheduler and writer (exit 0/1/2)",
        description="Check this deployment without changing it. Exit status: 0 all ok, "
        "1 a warning (e.g. no bot is running), 2 critical (e.g. the database is unreachable).",
    )


def _backup_and_restore(commands: Commands) -> None:
    """Add ``backup`` and ``restore``."""
    backup = commands.add_parser(
        "backup",
        help="copy the database (and the pseudonym key file) into a new private folder",
        description="SQLite: an online copy through SQLite's backup API; PostgreSQL: pg_dump "
        "-Fc. The folder is readable by you alone; keep it as safe as the database.",
    )
    backup.add_argument("out", type=Path, help="a new (or empty) folder")
    backup.add_argument(
        "--keys-out",
        type=Path,
        metavar="FOLDER",
        help="also copy people's own keys (database.keys) into this other folder; keep those "
        "copies apart from database backups, and briefly",
    )
    restore = commands.add_parser(
        "restore",
        help="restore a backup into a new, empty database (database.url)",
        description="Restore a folder written by 'dialogue backup' into the database named by "
        "database.url, which must hold no tables yet.",
    )
    restore.add_argument("backup", type=Path, help="the folder 'dialogue backup' wrote")
    restore.add_argument(
        "--keys-from",
        type=Path,
        metavar="FOLDER",
        help="the folder 'dialogue backup --keys-out' wrote: people's own keys to restore",
    )
    restore.add_argument(
        "--replay-from",
        metavar="OLD_DATABASE_URL",
        help="erase again everyone erased in this database after the backup was made",
    )


def _completion(commands: Commands) -> None:
    """Add ``completion``."""
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script for dialogue (bash or zsh)",
        description="Print a script that completes dialogue's commands and options. bash: "
        "add 'eval \"$(dialogue completion bash)\"' to ~/.bashrc; zsh: add "
        "'eval \"$(dialogue completion zsh)\"' to ~/.zshrc after compinit.",
    )
    completion.add_argument("shell", choices=SHELLS)
