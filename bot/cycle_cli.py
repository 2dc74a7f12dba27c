"""``dialogue cycle ...`` and ``dialogue schedule ...``: staff manage cycles and schedules.

A running bot picks the changes up by itself within ``schedule.poll_seconds``: it opens and
closes cycles on their dates, opens scheduled sessions and ends sessions of a closed cycle.
"""

from __future__ import annotations

import argparse
from datetime import tzinfo
from zoneinfo import ZoneInfo

from bot.app import App, cycles
from bot.core.ids import GroupRef, PersonRef
from bot.cycles import CycleProblem, Cycles, parse_when, shown
from bot.service import utcnow
from bot.settings import Settings
from bot.usage import UsageError, require_platform
from storage.cycles import CANCELLED, OPEN, CycleRecord


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cycle`` and ``schedule`` to the ``dialogue`` command."""
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


async def run(args: argparse.Namespace, app: App) -> int:
    """Carry out a ``cycle`` or ``schedule`` command; a problem is a message and status 2."""
    zone = ZoneInfo(app.settings.schedule.timezone)
    ops = cycles(app)
    try:
        if args.command == "schedule":
            return await _schedule(args, ops, zone, app.settings)
        return await _cycle(args, ops, zone)
    except CycleProblem as exc:
        print(f"dialogue {args.command} {args.action}: {exc}")
        return 2


async def _cycle(args: argparse.Namespace, ops: Cycles, zone: tzinfo) -> int:
    now = utcnow()
    if args.action == "create":
        scripts = [s.strip() for s in args.scripts.split(",") if s.strip()]
        opens, closes = parse_when(args.start, zone), parse_when(args.end, zone, end=True)
        record = await ops.create(args.id, args.title, args.theme, opens, closes, scripts, now)
        print(
            f"Planned cycle {record.id}: opens {shown(record.opens_at, zone)}, "
            f"closes {shown(record.closes_at, zone)}."
        )
    elif args.action == "open":
        record = await ops.open(args.id, now)
        print(
            f"Cycle {record.id} is open; new sessions belong to it. Scripts: "
            f"{', '.join(record.scripts)}."
        )
    elif args.action == "close":
        closed = await ops.close(args.id, now)
        if closed is None:
            print(f"Cycle {args.id} was closed already.")
            return 0
        print(f"Cycle {args.id} is closed. A running bot ends its sessions politely.")
        if closed.cancelled:
            print(f"{closed.cancelled} scheduled sessions of this cycle were cancelled.")
        if closed.card is not None:
            print(f"Draft 'what we heard' card: {closed.card} (edit it before it is shown).")
        else:
            print("Its 'what we heard' card exists already and was left as it is.")
        if closed.export is not None:
            print(f"Export: {closed.export}")
    elif args.action == "list":
        found = await ops.store.cycles()
        for record in found:
            print(_line(record, zone))
        if not found:
            print("No cycles yet; every session belongs to the default cycle.")
    else:
        print(_details(await ops.get(args.id), zone))
    return 0


async def _schedule(args: argparse.Namespace, ops: Cycles, zone: tzinfo, settings: Settings) -> int:
    if args.action == "list":
        for record in await ops.store.scheduled():
            print(
                f"{record.id}: {record.group.platform}:{record.group.chat_id} "
                f"{record.script_id} at {shown(record.due_at, zone)}"
            )
        return 0
    if args.action == "cancel":
        if not await ops.store.settle_session(args.id, CANCELLED):
            raise CycleProblem(
                f"there is no scheduled session {args.id} still to open; "
                "see them with: dialogue schedule list"
            )
        print(f"Scheduled session {args.id} is cancelled; the running bot will not open it.")
        return 0
    platform, _, chat = args.group.partition(":")
    if not platform or not chat:
        raise UsageError(f"'{args.group}': write the group as platform:chat_id")
    require_platform(settings, platform, "dialogue schedule add")
    current = await ops.current()
    if current.offered is not None and args.script not in current.offered:
        raise CycleProblem(
            f"the open cycle does not offer '{args.script}' "
            f"(it offers: {', '.join(sorted(current.offered)) or 'nothing: no cycle is open'})"
        )
    at = parse_when(f"{args.date} {args.time}", zone)
    now = utcnow()
    if at <= now:
        raise CycleProblem(f"{shown(at, zone)} has passed; choose a time in the future")
    person = PersonRef(platform, args.facilitator) if args.facilitator else None
    record = await ops.store.schedule_session(
        GroupRef(platform, chat), person, args.script, at, now
    )
    print(
        f"Scheduled {record.script_id} for {args.group} at {shown(at, zone)} "
        f"(number {record.id}); the running bot opens it then."
    )
    return 0


def _line(record: CycleRecord, zone: tzinfo) -> str:
    return (
        f"{record.id:<12} {record.state:<8} {shown(record.opens_at, zone)} to "
        f"{shown(record.closes_at, zone)}  {record.title}"
    )


def _details(record: CycleRecord, zone: tzinfo) -> str:
    lines = [
        f"Cycle {record.id}: {record.title}",
        f"Theme: {record.theme or '-'}",
        f"State: {record.state}" + (" (new sessions join it)" if record.state == OPEN else ""),
        f"Opens: {shown(record.opens_at, zone)} (opened {shown(record.opened_at, zone)})",
        f"Closes: {shown(record.closes_at, zone)} (closed {shown(record.closed_at, zone)})",
        f"Scripts: {', '.join(record.scripts)}",
    ]
    return "\n".join(lines)
