"""``dialogue cycle ...`` and ``dialogue schedule ...``: staff manage cycles and schedules.

A running bot picks the changes up by itself within ``schedule.poll_seconds``: it opens and
closes cycles on their dates, opens scheduled sessions and ends sessions of a closed cycle.
"""

from __future__ import annotations

import argparse
from datetime import tzinfo
from zoneinfo import ZoneInfo

from bot.app import App, cycles
from bot.cli.usage import UsageError, require_platform
from bot.core.ids import GroupRef, PersonRef
from bot.service.cycles import CycleProblem, Cycles, in_prompts, parse_when, shown
from bot.service.shell import utcnow
from storage.cycles import CANCELLED, OPEN, CycleRecord


async def run(args: argparse.Namespace, app: App) -> int:
    """Carry out a ``cycle`` or ``schedule`` command; a problem is a message and status 2."""
    zone = ZoneInfo(app.settings.schedule.timezone)
    ops = cycles(app)
    try:
        if args.command == "schedule":
            return await _schedule(args, ops, zone, app)
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


async def _schedule(args: argparse.Namespace, ops: Cycles, zone: tzinfo, app: App) -> int:
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
    require_platform(app.settings, platform, "dialogue schedule add")
    group = GroupRef(platform, chat)
    # What the session's opening would refuse, refused now, not silently when it is due.
    known = app.service.library.scripts
    if args.script not in known:
        raise CycleProblem(f"there is no script '{args.script}'; {in_prompts(known)}")
    if not await app.service.roles.is_registered(group):
        raise CycleProblem(
            f"{args.group} is not registered, so no session may open there; "
            f"register it first: dialogue group add {args.group}"
        )
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
    record = await ops.store.schedule_session(group, person, args.script, at, now)
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
