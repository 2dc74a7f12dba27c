"""The Telegram adapter in the running bot, against the fake Bot API: each behaviour alone."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.settings import ConfigError
from tests.support.telegram import (
    ROOT,
    Group,
    act,
    button_with,
    consent,
    fake_bot_message_with_button,
    handled,
    last_with_buttons,
    running_bot,
    settle,
    telegram_settings,
    texts_in,
)
from tests.support.telegram_fake import FakeBotApi, TelegramUser
from tests.support.telegram_fake.server import _tiny_png

SCRIPT = "health-data-intro"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/bot.db"


async def test_bad_updates_get_a_clear_reply_or_a_log_line_never_a_traceback(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    g = Group(fake)
    elsewhere = fake.group("Unregistered", members=[g.fran, g.alice])
    fake.add_admin(elsewhere, g.fran)
    async with running_bot(telegram_settings(fake, url, staff=[g.sam.id]), fake, monkeypatch):
        await act(fake, g.alice, elsewhere, "hello, anyone?")  # an unknown chat: ignored
        await act(fake, g.fran, elsewhere, f"/start {SCRIPT}")
        assert "isn't registered" in texts_in(fake, g.fran)[-1]
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.carol, g.chat, "/next")  # not a facilitator, no private chat
        assert texts_in(fake, g.chat)[-1].startswith("Carol, I can't write to you privately")
        await act(fake, g.carol, g.chat, "/mydata")  # answered privately only: no new invitation
        assert sum(t.startswith("Carol, I can't write") for t in texts_in(fake, g.chat)) == 1
        dan = fake.user("Dan")
        dan.join(g.chat)
        await act(fake, dan, g.chat, "/mydata")  # what is stored never goes to the group
        assert texts_in(fake, g.chat)[-1].startswith("Dan, I can't write to you privately")
        await act(fake, g.alice, g.chat, "/next")
        assert texts_in(fake, g.alice)[-1] == "Sorry, only this group's facilitators can use /next."
        await act(fake, g.fran, g.chat, f"/start {SCRIPT}")
        await act(fake, g.fran, g.chat, "/goto nowhere")
        assert texts_in(fake, g.fran)[-1].startswith("There is no step “nowhere”")
        await act(fake, g.alice, g.chat, "/vote banana")
        assert texts_in(fake, g.alice)[-1] == "There is no question to answer right now."
        await act(fake, g.sam, g.chat, "/facilitator add @nobody_known")
        assert texts_in(fake, g.chat)[-1].startswith("I don't know who @nobody_known is yet")
        await act(fake, g.fran, g.chat, "/goto research-comfort")
        old_question = last_with_buttons(fake, g.chat)
        await act(fake, g.fran, g.chat, "/next")
        query = g.alice.press(
            old_question, old_question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        )
        await settle(fake)
        assert fake.callback_answers[query["id"]]["text"] == (
            "That question isn't open any more, so your answer wasn't recorded."
        )
        # A button the bot never made (data from another version, or forged).
        foreign = await fake_bot_message_with_button(fake, g.chat.id, "x:unknown")
        query = g.alice.press(foreign, "x:unknown")
        await settle(fake)
        assert fake.callback_answers[query["id"]]["text"].startswith("This button no longer works")
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_session_in_a_forum_topic_captures_only_that_topic(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake, forum=True)
    fake.set_bot_admin(g.chat, True)
    topic = fake.create_topic(g.chat, "Health data")
    other = fake.create_topic(g.chat, "Chat")
    thread = topic.message_thread_id
    async with running_bot(
        telegram_settings(fake, url, staff=[g.sam.id]), fake, monkeypatch
    ) as app:
        await act(fake, g.sam, g.chat, "/register", thread_id=thread)
        await act(fake, g.fran, g.chat, f"/start {SCRIPT}", thread_id=thread)
        welcome = next(
            m for m in fake.messages_in(g.chat) if m.get("text", "").startswith("Welcome")
        )
        assert welcome["message_thread_id"] == thread
        await consent(fake, g.alice, g.chat)
        await act(fake, g.fran, g.chat, "/goto first-thoughts", thread_id=thread)
        await act(fake, g.alice, g.chat, "IN-TOPIC reply", thread_id=thread)
        await act(fake, g.alice, g.chat, "OTHER-TOPIC chatter", thread_id=other.message_thread_id)
        await act(fake, g.alice, g.chat, "GENERAL chatter")
        await handled(fake, g.alice)
        data = await app.repository.person_data(person(g.alice))
    assert [r.text for r in data.responses] == ["IN-TOPIC reply"]
    assert data.responses[0].group.chat_id == f"{g.chat.id}/{thread}"
    assert [group.chat_id for group, _ in data.consents] == [str(g.chat.id)]  # the whole chat


def person(user: TelegramUser) -> Any:
    from bot.core.ids import PersonRef

    return PersonRef("telegram", str(user.id))


async def test_privacy_mode_is_reported_to_staff_at_start_and_on_register(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.can_read_all_group_messages = False
    g = Group(fake)
    async with running_bot(telegram_settings(fake, url, staff=[g.sam.id]), fake, monkeypatch):
        assert "/setprivacy" in texts_in(fake, g.sam)[-1]
        await act(fake, g.sam, g.chat, "/register")
        assert (
            "make me an admin of this group, or turn privacy mode off" in texts_in(fake, g.chat)[-1]
        )
        fake.set_bot_admin(g.chat, True)
        await act(fake, g.sam, g.chat, "/register")
    assert texts_in(fake, g.chat)[-2:] == [
        "This group is already registered for dialogues.",
        "I can read the group's messages and post here: sessions can run in this group.",
    ]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_is_waited_out_and_no_message_is_lost(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    async with running_bot(telegram_settings(fake, url, staff=[g.sam.id]), fake, monkeypatch):
        fake.flood("sendMessage", times=2, retry_after=1)
        await act(fake, g.sam, g.chat, "/register")
        await settle(fake, quiet=1.2)
    statuses = [c.http_status for c in fake.calls_to("sendMessage")]
    assert statuses[:3] == [429, 429, 200]
    assert texts_in(fake, g.chat)[0].startswith("This group is now registered")


async def test_webhook_checks_the_secret_and_stores_a_redelivered_update_once(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    g = Group(fake)
    monkeypatch.setenv("DIALOGUE_TELEGRAM_WEBHOOK_SECRET", "s3cret-token")
    hook = f"http://127.0.0.1:{unused_port}/telegram-hook"
    settings = telegram_settings(
        fake, url, staff=[g.sam.id], webhook_url=hook, webhook_port=unused_port
    )
    async with running_bot(settings, fake, monkeypatch) as app:
        assert fake.webhook_url == hook and fake.webhook_secret_token == "s3cret-token"
        assert await fake.deliver_webhook_updates() == 3  # the three who opened a private chat
        g.sam.say(g.chat, "/register")
        g.fran.say(g.chat, f"/start {SCRIPT}")
        assert await fake.deliver_webhook_updates() == 2
        await settle(fake)
        await consent_by_webhook(fake, g.alice, g.chat)
        g.fran.say(g.chat, "/goto first-thoughts")
        g.alice.say(g.chat, "WEBHOOK-REPLY once")
        assert await fake.deliver_webhook_updates() == 2
        fake.redeliver(1)
        assert await fake.deliver_webhook_updates() == 1
        await handled(fake, g.alice, webhook=True)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                hook,
                json=fake.confirmed_updates[-1],
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            ) as refused,
        ):
            assert refused.status == 403
        data = await app.repository.person_data(person(g.alice))
    assert [r.text for r in data.responses] == ["WEBHOOK-REPLY once"]


async def consent_by_webhook(fake: FakeBotApi, user: TelegramUser, chat: Any) -> None:
    join = next(m for m in fake.messages_in(chat) if "Anyone can read along" in m.get("text", ""))
    user.start_private(button_with(join, lambda b: "url" in b)["url"].split("start=")[1])
    await fake.deliver_webhook_updates()
    await settle(fake)
    offer = last_with_buttons(fake, user)
    user.press(offer, button_with(offer, lambda b: "all" in b["text"])["callback_data"])
    await fake.deliver_webhook_updates()
    await settle(fake)


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_media_are_recorded_as_their_kind_per_config_and_service_messages_ignored(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    settings = telegram_settings(fake, url, staff=[g.sam.id], record_media_kinds=["sticker"])
    async with running_bot(settings, fake, monkeypatch) as app:
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, f"/start {SCRIPT}")
        await consent(fake, g.alice, g.chat)
        await act(fake, g.fran, g.chat, "/goto first-thoughts")
        g.alice.send_sticker(g.chat)
        g.alice.send_photo(g.chat, caption="a photo left out by the settings")
        fake.user("Newcomer").join(g.chat)
        await act(fake, g.alice, g.chat, "words after the media")
        await handled(fake, g.alice)
        data = await app.repository.person_data(person(g.alice))
    assert [r.text for r in data.responses] == ["", "words after the media"]


async def test_forget_as_a_reply_removes_only_the_authors_own_reply(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    async with running_bot(
        telegram_settings(fake, url, staff=[g.sam.id]), fake, monkeypatch
    ) as app:
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, f"/start {SCRIPT}")
        await consent(fake, g.alice, g.chat)
        await consent(fake, g.fran, g.chat)
        await act(fake, g.fran, g.chat, "/goto first-thoughts")
        await act(fake, g.alice, g.chat, "ALICE goes by number")
        theirs = await act(fake, g.fran, g.chat, "FRAN keeps this too")
        gone = await act(fake, g.alice, g.chat, "ALICE regrets this")
        await act(fake, g.alice, g.chat, "/forget", reply_to=theirs)
        await act(fake, g.alice, g.chat, "/forget", reply_to=gone)
        await act(fake, g.alice, g.alice, "/forget 1")
        await handled(fake, g.alice)
        alice = await app.repository.person_data(person(g.alice))
        fran = await app.repository.person_data(person(g.fran))
    # Alice's first reply went by its number in /mydata, her last by the reply; Fran's stays.
    assert alice.responses == () and [r.text for r in fran.responses] == ["FRAN keeps this too"]
    assert any(t.startswith("Removed your reply number 1") for t in texts_in(fake, g.alice))


async def test_card_pictures_go_with_their_description_as_caption_or_after_it(
    fake: FakeBotApi, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = content_with_pictures(tmp_path, alt_lengths=(40, 1100))
    g = Group(fake)
    settings = telegram_settings(fake, url, content_root=root, staff=[g.sam.id])
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, "/start pictures")
    photos = [m for m in fake.messages_in(g.chat) if "photo" in m]
    assert [m.get("caption", "")[:9] for m in photos] == ["Picture: ", ""]
    assert len(fake.calls_to("sendPhoto")) == 2
    texts = texts_in(fake, g.chat)
    long_card = next(t for t in texts if t.startswith("Card two"))
    assert "Picture: " + "a" * 1090 in long_card  # the description follows the picture


def content_with_pictures(tmp_path: Path, alt_lengths: tuple[int, int]) -> Path:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "prompts" / "consent", root / "prompts" / "consent")
    if (ROOT / "prompts" / "profile").is_dir():
        shutil.copytree(ROOT / "prompts" / "profile", root / "prompts" / "profile")
    (root / "resources" / "images").mkdir(parents=True)
    (root / "resources" / "images" / "pic.png").write_bytes(_tiny_png(120, 80))
    for number, (name, length) in enumerate(zip(("one", "two"), alt_lengths, strict=True)):
        (root / "resources" / f"card-{name}.md").write_text(
            f'---\nid: card-{name}\nversion: "1"\ntitle: Card {name}\nsummary: A card.\n'
            "language: en\nsources:\n  - title: Example\n    url: https://example.org/\n"
            f"image:\n  path: images/pic.png\n  alt: {'a' * length}\n---\nBody **{number}**.\n",
            encoding="utf-8",
        )
    (root / "prompts" / "pictures.toml").write_text(
        'id = "pictures"\nversion = "1"\ntitle = "Pictures"\nlanguage = "en"\n'
        'estimated_minutes = 5\n\n[[steps]]\nid = "cards"\nkind = "card"\n'
        'text = "Two cards."\ncards = ["card-one", "card-two"]\n',
        encoding="utf-8",
    )
    return root


async def test_command_menus_are_set_for_each_kind_of_chat(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram_settings(fake, url), fake, monkeypatch):
        pass

    def names(scope: str) -> list[str]:
        return [c["command"] for c in fake.commands_for({"type": scope}) or []]

    assert "vote" in names("all_group_chats") and "next" not in names("all_group_chats")
    assert {"next", "register", "facilitator", "vote"} <= set(names("all_chat_administrators"))
    private = {"join", "rehearse", "reflect", "mydata", "withdraw", "forget"}
    assert private <= set(names("all_private_chats"))
    for command in fake.commands_for({"type": "all_private_chats"}) or []:
        assert command["description"] and not command["description"].startswith("telegram.")


async def test_staff_grant_facilitation_by_reply_or_username_and_admins_can_be_left_out(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    gina = fake.user("Gina", username="gina")
    fake.chats[g.chat.id].members[gina.id] = fake.chats[g.chat.id].members[g.alice.id]
    gina.start_private()
    settings = telegram_settings(fake, url, staff=[g.sam.id], admins_facilitate=False)
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, f"/start {SCRIPT}")  # an admin, but not by default here
        assert texts_in(fake, g.fran)[-1].startswith("Sorry, only this group's facilitators")
        hello = await act(fake, gina, g.chat, "hello")
        await act(fake, g.sam, g.chat, "/facilitator add", reply_to=hello)
        await act(fake, gina, g.chat, "/status")
        assert texts_in(fake, gina)[-1] == "No session is running in this group."
        await act(fake, g.sam, g.chat, "/facilitator remove @gina")
        await act(fake, gina, g.chat, "/status")
        assert texts_in(fake, gina)[-1].startswith("Sorry, only this group's facilitators")


async def test_a_token_telegram_refuses_is_a_configuration_problem(
    fake: FakeBotApi, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import build, enabled_platforms

    monkeypatch.setenv("DIALOGUE_TELEGRAM_TOKEN", "123456:" + "x" * 35)
    app = await build(telegram_settings(fake, url))
    try:
        [platform] = enabled_platforms(app)
        with pytest.raises(ConfigError, match="DIALOGUE_TELEGRAM_TOKEN: Telegram did not accept"):
            await platform.start()
    finally:
        await app.close()
