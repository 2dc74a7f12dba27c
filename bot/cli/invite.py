"""``dialogue invite``: links (and QR codes) that bring residents into a cycle's dialogue.

Without ``--group`` the links open the cycle's self-paced dialogue in a private chat with the
bot; with it, consent for that group. A link carries a cycle id or a group's chat id, never
anything about a person.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage
from telegram import Bot
from telegram.error import TelegramError

from bot.app import App
from bot.core import direct
from bot.core.ids import GroupRef
from bot.platforms.telegram.codec import group_token
from bot.private_files import private_file
from bot.settings import secret
from storage.cycles import CycleStore


class InviteProblem(Exception):
    """Something about the request that staff can fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Invitation:
    """One platform's way in: a link (with its QR code file) or what to type."""

    platform: str
    text: str
    qr: Path | None = None


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
    if settings.console.enabled and (group is None or group.platform == "console"):
        typed = f"NAME: /consent (in the group {group.chat_id})" if group else None
        found.append(Invitation("console", typed or f"NAME> /{direct.COMMAND} {cycle_id}"))
    if settings.telegram.enabled and (group is None or group.platform == "telegram"):
        name = bot_name or await _telegram_username(app)
        token = group_token(group) if group else direct.invitation(cycle_id)
        link = f"https://t.me/{name.lstrip('@')}?start={token}"
        found.append(Invitation("telegram", link, _qr(link, out, cycle_id, group)))
    if settings.discord.enabled and (group is None or group.platform == "discord"):
        if group is None:
            text = (
                f"write /join {cycle_id} to the bot in a direct message (Discord has no link "
                "that opens one); or invite to a channel with --group discord:CHANNEL"
            )
        else:
            text = (
                f"in the channel {group.chat_id}, press 'Join this dialogue' on the session's "
                "message, or type /consent"
            )
        found.append(Invitation("discord", text))
    if not found:
        where = f"for {group.platform}" if group else "at all"
        raise InviteProblem(
            f"no enabled platform {where}; enable console, telegram or discord in the settings"
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


async def _telegram_username(app: App) -> str:
    token = secret("telegram_token")
    if token is None:
        raise InviteProblem(
            "--telegram-bot: give the bot's username, or set DIALOGUE_TELEGRAM_TOKEN so it "
            "can be asked from Telegram"
        )
    base = app.settings.telegram.api_base_url.rstrip("/")
    try:
        async with Bot(token, base_url=f"{base}/bot") as bot:
            return bot.username
    except TelegramError as exc:
        raise InviteProblem(
            f"--telegram-bot: Telegram did not say the bot's username ({exc.message}); "
            "give it with --telegram-bot NAME"
        ) from None


def _qr(link: str, out: Path, cycle_id: str, group: GroupRef | None) -> Path:
    name = f"invite-{cycle_id}" + (f"-{group_token(group)}" if group else "") + "-telegram.png"
    path = out / name
    image = qrcode.make(link, image_factory=PyPNGImage)
    with private_file(path).open("wb") as handle:
        image.save(handle)
    return path
