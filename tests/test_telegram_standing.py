"""Telegram against the fake Bot API: what a person is owed holds across restarts and bursts.

Someone who never agreed is invited once per group, also after the bot restarted and after
pressing an answer; someone who agreed to the profile can start it privately after a restart,
before saying anything in the group; a burst of commands never holds back a withdrawal.
"""

from __future__ import annotations

import pytest

from bot.settings import Settings
from tests.support.telegram import (
    button_with,
    handled,
    last_with_buttons,
    running_bot,
    settle,
    telegram_settings,
    texts_in,
)
from tests.support.telegram_fake import FakeBotApi, TelegramUser

SCRIPT = "health-data-intro"
INVITATION = "Your messages in this session are not being recorded"


class Circle:
    """A registered group, with staff Sam, facilitator Fran, Alice and Carol."""

    def __init__(self, fake: FakeBotApi, database_url: str) -> None:
        self.fake = fake
        self.sam, self.fran = fake.user("Sam"), fake.user("Fran")
        self.alice, self.carol = fake.user("Alice"), fake.user("Carol")
        members = [self.sam, self.fran, self.alice, self.carol]
        self.chat = fake.group("Circle", kind="supergroup", members=members)
        fake.add_admin(self.chat, self.fran)
        for user in members:
            user.start_private()
        self.settings: Settings = telegram_settings(fake, database_url, staff=[self.sam.id])

    async def act(self, user: TelegramUser, words: str, private: bool = False) -> None:
        user.say(user if private else self.chat, words)
        await settle(self.fake)


async def test_someone_who_never_agreed_is_invited_once_across_restarts_and_answers(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Circle(fake, database_url)
    async with running_bot(g.settings, fake, monkeypatch):
        await g.act(g.sam, "/register")
        await g.act(g.fran, f"/start {SCRIPT}")
        await g.act(g.fran, "/goto research-comfort")
        await g.act(g.carol, "CAROL-SECRET hello")
        await handled(fake, g.sam)
    async with running_bot(g.settings, fake, monkeypatch):
        await g.act(g.carol, "CAROL-SECRET after the restart")
        question = last_with_buttons(fake, g.chat)
        g.carol.press(
            question, button_with(question, lambda b: "callback_data" in b)["callback_data"]
        )
        await settle(fake)
        await g.act(g.carol, "/vote 2")
        await g.act(g.carol, "CAROL-SECRET after answering")
        await handled(fake, g.sam)
    said = texts_in(fake, g.carol)
    assert sum(INVITATION in text for text in said) == 1
    assert sum("answer wasn't recorded" in text for text in said) == 1  # the typed /vote


async def test_after_a_restart_a_profile_can_start_privately_and_withdrawal_is_never_held_back(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Circle(fake, database_url)
    g.settings.limits.commands_per_minute = 1
    g.settings.limits.command_burst = 2
    async with running_bot(g.settings, fake, monkeypatch):
        await g.act(g.sam, "/register")
        await g.act(g.fran, f"/start {SCRIPT}")
        await g.act(g.alice, "/agree participate profile", private=False)
        await handled(fake, g.sam)
    async with running_bot(g.settings, fake, monkeypatch) as app:
        await g.act(g.alice, "/profile start", private=True)
        await handled(fake, g.sam)
        assert texts_in(fake, g.alice)[-1].startswith("Question 1 of 7")
        for _ in range(4):
            await g.act(g.alice, "/status")
        assert sum("very quickly" in text for text in texts_in(fake, g.alice)) == 1
        await g.act(g.alice, "/withdraw")
        await g.act(g.alice, "/withdraw confirm", private=True)
        assert "withdrawn your consent" in texts_in(fake, g.alice)[-1]
        await handled(fake, g.sam)
        assert (await app.repository.person_data(person(g.alice))).consents == ()


def person(user: TelegramUser) -> object:
    from bot.core.ids import PersonRef

    return PersonRef("telegram", str(user.id))


async def test_after_a_restart_a_private_answer_reaches_the_session_in_a_forum_topic(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Circle(fake, database_url)
    forum = fake.group("Forum", kind="supergroup", forum=True, members=[g.sam, g.fran, g.alice])
    fake.add_admin(forum, g.fran)
    thread = fake.create_topic(forum, "Health data").message_thread_id

    async def act(user: TelegramUser, words: str) -> None:
        user.say(forum, words, thread_id=thread)
        await settle(fake)

    async with running_bot(g.settings, fake, monkeypatch):
        await act(g.sam, "/register")
        await act(g.fran, f"/start {SCRIPT}")
        await act(g.alice, "/agree participate")
        await act(g.fran, "/goto research-comfort")
        await handled(fake, g.sam)
    async with running_bot(g.settings, fake, monkeypatch) as app:
        await g.act(g.alice, "/vote 2", private=True)
        await handled(fake, g.sam)
        assert texts_in(fake, g.alice)[-1].startswith("Thank you, your answer is recorded")
        (answer,) = (await app.repository.person_data(person(g.alice))).votes
    assert answer.group.chat_id == f"{forum.id}/{thread}"
