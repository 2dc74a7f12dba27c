"""Telegram against the fake Bot API: each button press is answered from what answers it.

The adapter keeps no record of presses being handled: a reply names the press it answers, so
one person's presses in two groups, around a restart, each open their own group's consent chat,
a person who agreed sees the pop-up of their own vote, and a private message sent to a person
while their press is handled (a scheduled reminder, say) is not taken for its answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.actions import SendPrivate
from bot.core.events import Event, VoteCast
from bot.core.ids import PersonRef
from bot.texts import Catalogue
from tests.support.telegram import (
    Group,
    act,
    button_with,
    consent,
    handled,
    last_with_buttons,
    running_bot,
    settle,
    telegram_settings,
)
from tests.support.telegram_fake import FakeBotApi, TelegramUser

SCRIPT = "health-data-intro"


def join_link(fake: FakeBotApi, chat: Any) -> str:
    """The link of a group's join button (it opens the private consent chat about the group)."""
    join = next(m for m in fake.messages_in(chat) if "Anyone can read along" in m.get("text", ""))
    return str(button_with(join, lambda b: "url" in b)["url"])


def press_first_answer(fake: FakeBotApi, user: TelegramUser, chat: Any) -> str:
    """The user presses the first answer of the group's latest question; the press's id."""
    question = last_with_buttons(fake, chat)
    data = button_with(question, lambda b: "callback_data" in b)["callback_data"]
    return str(user.press(question, data)["id"])


async def test_one_persons_presses_in_two_groups_each_open_their_own_groups_consent_chat(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam, fran = fake.user("Sam"), fake.user("Fran")
    alice, carol = fake.user("Alice"), fake.user("Carol")
    people = [sam, fran, alice, carol]
    chats = [fake.group(name, kind="supergroup", members=people) for name in ("One", "Two")]
    for chat in chats:
        fake.add_admin(chat, fran)
    for user in people:
        user.start_private()
    settings = telegram_settings(fake, database_url, staff=[sam.id])
    async with running_bot(settings, fake, monkeypatch):
        for chat in chats:
            for user, words in ((sam, "/register"), (fran, f"/start {SCRIPT}")):
                user.say(chat, words)
                await settle(fake)
            fran.say(chat, "/goto research-comfort")
            await settle(fake)
        await consent(fake, alice, chats[0])
        one = press_first_answer(fake, carol, chats[0])
        mine = press_first_answer(fake, alice, chats[0])
        await settle(fake)
        await handled(fake, sam)
    async with running_bot(settings, fake, monkeypatch):  # a restart between the presses
        two = press_first_answer(fake, carol, chats[1])
        await settle(fake)
        await handled(fake, sam)
    links = [join_link(fake, chat) for chat in chats]
    assert links[0] != links[1]
    assert fake.callback_answers[one]["url"] == links[0]
    assert fake.callback_answers[two]["url"] == links[1]
    recorded = Catalogue.load().get("en", "vote.recorded", answer="\x00").split("\x00")[0]
    assert str(fake.callback_answers[mine]["text"]).startswith(recorded)


async def test_a_private_message_sent_while_a_press_is_handled_is_not_taken_for_its_answer(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    sam, fran, carol, chat = g.sam, g.fran, g.carol, g.chat
    carol.start_private()  # so a private message can reach her
    settings = telegram_settings(fake, database_url, staff=[sam.id])
    reminder = "A reminder from elsewhere"
    async with running_bot(settings, fake, monkeypatch) as app:
        for user, words in ((sam, "/register"), (fran, f"/start {SCRIPT}")):
            await act(fake, user, chat, words)
        await act(fake, fran, chat, "/goto research-comfort")
        platform = app.service.platforms["telegram"]
        handle = platform.handle  # type: ignore[attr-defined]

        async def meanwhile(event: Event) -> None:
            # Something else (the scheduler, another group) writes to Carol meanwhile.
            if isinstance(event, VoteCast):
                await platform.perform(SendPrivate(PersonRef("telegram", str(carol.id)), reminder))
            await handle(event)

        monkeypatch.setattr(platform, "handle", meanwhile)
        pressed = press_first_answer(fake, carol, chat)
        await settle(fake)
        await handled(fake, sam)
    assert reminder in [m.get("text") for m in fake.private_messages_to(carol)]
    assert fake.callback_answers[pressed]["url"] == join_link(fake, chat)
