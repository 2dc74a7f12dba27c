"""``dialogue invite``: links (and QR codes) that bring residents into a cycle's dialogue.

Without ``--group`` the links open the cycle's self-paced dialogue in a private chat with the
bot; with it, consent for that group. A link carries a cycle id or a group's chat id, never
anything about a person.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.app import App
from bot.core.ids import GroupRef
from bot.platforms.descriptor import Invitation, InviteProblem
from bot.platforms.registry import PLATFORMS, names, one_of
from storage.cycles import CycleStore


async def run(args: argparse.Namespace, app: App) -> int:
    """Print the invitations; a problem staff can fix is one message and status 2."""
    try:
        found = await invitations(app, args.cycle, args.group, args.out, args.telegram_bot)
    except InviteProblem as exc:
        print(f"Invite problem: {exc}", file=sys.stderr)
        return 2
    for invitation in found:
        qr = f"  (QR code: {invitation.qr})" if invitation.qr else ""
        print(f"{invitation.platform}: {invitation.text}{qr}")
    return 0


async def invitations(
    app: App, cycle_id: str, group_text: str | None, out: Path, bot_name: str | None
) -> list[Invitation]:
    """The invitations for every enabled platform, QR codes written to ``out``."""
    settings = app.settings
    scripts = await _scripts(app, cycle_id)
    group = _group(group_text) if group_text else None
    if group is None and not any(
        any(step.self_paced for step in app.library.scripts[s].steps)
        for s in scripts
        if s in app.library.scripts
    ):
        raise InviteProblem(
            f"--cycle: cycle '{cycle_id}' offers no script with self-paced steps, so a "
            "resident would find nothing to start; mark steps 'self_paced = true' in a script "
            "it offers (see 'dialogue content check'), or invite to a group with --group"
        )
    found: list[Invitation] = []
    for kind in PLATFORMS:
        section = settings.platform_section(kind.name)
        if section.enabled and (group is None or group.platform == kind.name):
            found.append(await kind.invitation(section, cycle_id, group, out, bot_name))
    if not found:
        where = f"for {group.platform}" if group else "at all"
        raise InviteProblem(
            f"no enabled platform {where}; enable {one_of(names())} in the settings"
        )
    return found


async def _scripts(app: App, cycle_id: str) -> tuple[str, ...]:
    record = await CycleStore(app.database).cycle(cycle_id)
    if record is not None:
        return record.scripts
    if cycle_id == app.settings.cycle.default:
        return tuple(sorted(app.library.scripts))  # before any cycle, every script may run
    known = [c.id for c in await CycleStore(app.database).cycles()]
    raise InviteProblem(
        f"--cycle: there is no cycle '{cycle_id}'; cycles: {', '.join(known) or 'none yet'} "
        "(create one with 'dialogue cycle create')"
    )


def _group(text: str) -> GroupRef:
    platform, _, chat = text.partition(":")
    if not platform or not chat:
        raise InviteProblem(f"--group: '{text}' should look like platform:chat_id")
    return GroupRef(platform, chat)
