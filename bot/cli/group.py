"""``dialogue group ...``: staff register the groups that may run sessions.

Staff can also type /register in the group itself; both land in the same table.
"""

from __future__ import annotations

import argparse

from bot.app import App
from bot.cli.usage import UsageError, require_platform
from bot.core.ids import GroupRef
from bot.platforms.registry import find
from bot.service.shell import utcnow
from storage.cycles import CANCELLED, CycleStore


async def run(args: argparse.Namespace, app: App) -> int:
    """Carry out a ``group`` command."""
    repository = app.repository
    if args.action == "list":
        found = await repository.registered_groups()
        for entry in found:
            name = f"{entry.group.platform}:{entry.group.chat_id}"
            title = f"  {entry.title}" if entry.title else ""
            print(f"{name}{title}  (since {entry.registered_at:%Y-%m-%d})")
        print(f"{len(found)} registered groups")
        return 0
    target = _group(args.group)
    if args.action == "add":
        require_platform(app.settings, target.platform, "dialogue group add")
        added = await repository.register_group(target, utcnow(), args.title)
        print(f"{args.group}: {'registered' if added else 'already registered'}")
        return 0
    removed = await repository.unregister_group(target)
    print(f"{args.group}: {'no longer registered' if removed else 'was not registered'}")
    if removed and not await app.service.roles.is_registered(target):
        await _cancel_schedules(app, target)
    return 0


async def _cancel_schedules(app: App, group: GroupRef) -> None:
    """Cancel the group's scheduled sessions still to open: an unregistered group opens none."""
    store = CycleStore(app.database)
    numbers = []
    for record in await store.scheduled():
        if record.group.whole == group.whole and await store.settle_session(record.id, CANCELLED):
            numbers.append(record.id)
    if numbers:
        print(
            f"Its scheduled sessions still to open were cancelled (numbers "
            f"{', '.join(map(str, numbers))}): a group that is not registered opens none."
        )


def _group(value: str) -> GroupRef:
    platform, _, chat = value.partition(":")
    kind = find(platform)
    problem = kind.chat_id_problem(chat) if kind and chat else None
    if not platform or not chat or problem:
        raise UsageError(
            f"dialogue group: '{value}' should look like PLATFORM:CHAT_ID, "
            f"e.g. telegram:-1001234567890{f' ({problem})' if problem else ''}"
        )
    return GroupRef(platform, chat)
