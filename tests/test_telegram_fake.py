"""Drive the real python-telegram-bot 22 against the fake Bot API to prove it is faithful."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.telegram_fake import FakeBotApi, TelegramUser
from tests.support.telegram_fake.server import _tiny_png

Received = tuple[Update, list[str] | None]
App = Application[Any, Any, Any, Any, Any, Any]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        # Nothing the fake or PTB started may outlive the test.
        await asyncio.sleep(0)
        leftovers = [
            task
            for task in asyncio.all_tasks()
            if task is not asyncio.current_task() and not task.done()
        ]
        assert not leftovers, leftovers


def build_app(fake: FakeBotApi, **builder_kwargs: Any) -> App:
    builder = ApplicationBuilder().token(fake.token).base_url(fake.base_url)
    if builder_kwargs.get("rate_limiter") is not None:
        builder = builder.rate_limiter(builder_kwargs["rate_limiter"])
    return builder.build()


@contextlib.asynccontextmanager
async def polling(app: App, **kwargs: Any) -> AsyncIterator[App]:
    """Run the application with the real Updater polling the fake (short long-poll timeout)."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0, **kwargs)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def collect(queue: asyncio.Queue[Received]) -> Any:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        queue.put_nowait((update, context.args))

    return handler


async def next_item(queue: asyncio.Queue[Received], timeout: float = 5) -> Received:
    return await asyncio.wait_for(queue.get(), timeout)


async def raw_call(fake: FakeBotApi, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.api_url}/{method}", json=params) as response,
    ):
        return response.status, await response.json()


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # int today, timedelta with PTB_TIMEDELTA=1
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# --------------------------------------------------------------------------- updates


async def test_group_message_reaches_message_handler_with_telegram_fields(
    fake: FakeBotApi,
) -> None:
    alice = fake.user("Alice", username="alice", last_name="Liddell")
    group = fake.group("Town hall", members=[alice])
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        queue.put_nowait((update, None))
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"heard: {update.effective_message.text}")

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    async with polling(app):
        sent = alice.say(group, "Hello everyone")
        update, _ = await next_item(queue)
        reply = await fake.wait_for(lambda m: m.get("text") == "heard: Hello everyone")

    message = update.message
    assert message is not None
    assert message.message_id == sent["message_id"]
    assert message.text == "Hello everyone"
    assert message.entities == ()
    assert message.from_user is not None
    assert message.from_user.id == alice.id
    assert message.from_user.is_bot is False
    assert message.from_user.first_name == "Alice"
    assert message.from_user.last_name == "Liddell"
    assert message.from_user.username == "alice"
    assert message.from_user.language_code == "en"
    assert message.chat.id == group.id < 0
    assert message.chat.type == ChatType.GROUP
    assert message.chat.title == "Town hall"
    assert isinstance(sent["date"], int)
    assert abs(message.date.timestamp() - time.time()) < 5
    assert message.date.tzinfo is not None
    # The bot's reply: its own identity, a reply to the user's message, ids increase per chat.
    assert reply["from"] == {
        "id": fake.bot_user.id,
        "is_bot": True,
        "first_name": fake.bot_user.first_name,
        "username": "dialogue_test_bot",
    }
    assert reply["message_id"] == sent["message_id"] + 1
    assert reply["chat"] == {"id": group.id, "type": "group", "title": "Town hall"}
    assert fake.messages_in(group) == [reply]


async def test_command_handler_receives_args_and_respects_bot_username(fake: FakeBotApi) -> None:
    bob = fake.user("Bob")
    group = fake.group("Assembly", kind="supergroup", members=[bob])
    assert str(group.id).startswith("-100")
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(CommandHandler("vote", collect(queue)))

    async with polling(app):
        sent = bob.say(group, "/vote yes  please")
        update, args = await next_item(queue)
        assert args == ["yes", "please"]
        assert sent["entities"] == [{"offset": 0, "length": 5, "type": "bot_command"}]
        assert update.message is not None
        assert update.message.entities[0].type == MessageEntityType.BOT_COMMAND

        bob.say(group, "/vote@other_bot no")  # delivered, but addressed to another bot
        bob.say(group, "/vote@dialogue_test_bot maybe")
        update, args = await next_item(queue)
        assert args == ["maybe"]
        assert update.message is not None
        assert update.message.entities[0].length == len("/vote@dialogue_test_bot")
        assert queue.empty()


async def test_start_deep_link_in_private_chat(fake: FakeBotApi) -> None:
    carol = fake.user("Carol", username="carol")
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(CommandHandler("start", collect(queue)))

    async with polling(app):
        carol.start_private("invite-42")
        update, args = await next_item(queue)

    assert args == ["invite-42"]
    assert update.effective_chat is not None
    assert update.effective_chat.type == ChatType.PRIVATE
    assert update.effective_chat.id == carol.id
    assert update.effective_chat.first_name == "Carol"
    assert carol.has_started_bot


async def test_callback_query_data_answer_and_chat_instance(fake: FakeBotApi) -> None:
    dave = fake.user("Dave")
    group = fake.group("Circle", members=[dave])
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Noted", show_alert=True)
        queue.put_nowait((update, None))

    app.add_handler(CallbackQueryHandler(on_press))

    async with polling(app):
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Agree", callback_data="vote:agree")]]
        )
        await app.bot.send_message(group.id, "Do you agree?", reply_markup=keyboard)
        [message] = fake.messages_in(group)
        query_dict = dave.press(message, "vote:agree")
        update, _ = await next_item(queue)
        with pytest.raises(ValueError, match="no button"):
            dave.press(message, "vote:disagree")

        query = update.callback_query
        assert query is not None
        assert query.data == "vote:agree"
        assert query.id == query_dict["id"]
        assert query.from_user.id == dave.id
        assert query.chat_instance == group.chat_instance != ""
        assert query.message is not None
        assert query.message.message_id == message["message_id"]
        assert query.message.chat.id == group.id
        assert fake.callback_answers[query.id]["text"] == "Noted"
        assert fake.callback_answers[query.id]["show_alert"] is True
        # A query can be answered only once.
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await query.answer()


async def test_send_message_with_inline_keyboard_html_and_preview(fake: FakeBotApi) -> None:
    erin = fake.user("Erin")
    erin.start_private()
    app = build_app(fake)
    async with app:
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Yes", callback_data="y")],
                [InlineKeyboardButton("Docs", url="https://example.org/docs")],
            ]
        )
        sent = await app.bot.send_message(
            erin.id,
            "  <b>Round 1</b> &amp; <a href='https://example.org'>rules</a>\n",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    assert sent.text == "Round 1 & rules"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        (MessageEntityType.BOLD, 0, 7),
        (MessageEntityType.TEXT_LINK, 10, 5),
    ]
    assert sent.entities[1].url == "https://example.org/"
    assert sent.reply_markup == keyboard
    [stored] = fake.private_messages_to(erin)
    assert stored["text"] == "Round 1 & rules"
    assert stored["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "y"}],
            [{"text": "Docs", "url": "https://example.org/docs"}],
        ]
    }
    assert stored["link_preview_options"] == {"is_disabled": True}
    call = fake.calls_to("sendMessage")[-1]
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "y"
    assert call.params["chat_id"] == erin.id


async def test_forum_topics_thread_ids(fake: FakeBotApi) -> None:
    frank = fake.user("Frank")
    forum = fake.group("Deliberation", kind="supergroup", forum=True, members=[frank])
    topic = fake.create_topic(forum, "Budget")
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        queue.put_nowait((update, None))
        assert update.message is not None
        await update.message.reply_text("in topic")

    app.add_handler(MessageHandler(filters.TEXT, reply))
    async with polling(app):
        frank.say(forum, "Let's cut costs", thread_id=topic.message_thread_id)
        update, _ = await next_item(queue)
        answer = await fake.wait_for(lambda m: m.get("text") == "in topic", chat=forum)
        with pytest.raises(BadRequest, match="(?i)message thread not found"):
            await app.bot.send_message(forum.id, "x", message_thread_id=999)

    assert update.message is not None
    assert update.message.chat.is_forum is True
    assert update.message.message_thread_id == topic.message_thread_id
    assert update.message.is_topic_message is True
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.forum_topic_created is not None
    assert update.message.reply_to_message.forum_topic_created.name == "Budget"
    assert answer["message_thread_id"] == topic.message_thread_id
    assert answer["is_topic_message"] is True


async def test_edited_message_reaches_handler(fake: FakeBotApi) -> None:
    gina = fake.user("Gina")
    group = fake.group("Edits", members=[gina])
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, collect(queue)))

    async with polling(app):
        original = gina.say(group, "I propose 10")
        gina.edit(original, "I propose 12")
        update, _ = await next_item(queue)

    assert update.message is None
    assert update.edited_message is not None
    assert update.edited_message.message_id == original["message_id"]
    assert update.edited_message.text == "I propose 12"
    assert update.edited_message.edit_date is not None
    assert fake.all_messages_in(group)[-1]["text"] == "I propose 12"


async def test_acknowledged_updates_are_not_redelivered_after_restart(fake: FakeBotApi) -> None:
    hank = fake.user("Hank")
    group = fake.group("Restart", members=[hank])
    first: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, collect(first)))
    async with polling(app):
        hank.say(group, "one")
        update, _ = await next_item(first)
        assert update.message is not None and update.message.text == "one"

    hank.say(group, "two")
    second: asyncio.Queue[Received] = asyncio.Queue()
    app2 = build_app(fake)
    app2.add_handler(MessageHandler(filters.TEXT, collect(second)))
    async with polling(app2):
        update, _ = await next_item(second)
        assert update.message is not None and update.message.text == "two"
        await asyncio.sleep(0.2)
        assert second.empty()
    assert fake.pending_updates == []


async def test_get_updates_offset_limit_timeout_semantics(fake: FakeBotApi) -> None:
    ivy = fake.user("Ivy")
    group = fake.group("Raw", members=[ivy])
    for text in ("a", "b", "c"):
        ivy.say(group, text)

    status, body = await raw_call(fake, "getUpdates", limit=2)
    assert status == 200 and body["ok"] is True
    ids = [u["update_id"] for u in body["result"]]
    assert len(ids) == 2 and ids[1] == ids[0] + 1
    assert [u["message"]["text"] for u in body["result"]] == ["a", "b"]

    # Confirming with offset drops everything below it.
    _, body = await raw_call(fake, "getUpdates", offset=ids[1] + 1)
    assert [u["message"]["text"] for u in body["result"]] == ["c"]
    last = body["result"][0]["update_id"]
    _, body = await raw_call(fake, "getUpdates", offset=last + 1, timeout=0)
    assert body == {"ok": True, "result": []}

    # Long polling returns as soon as an update arrives.
    loop = asyncio.get_running_loop()
    started = loop.time()
    loop.call_later(0.2, ivy.say, group, "late")
    _, body = await raw_call(fake, "getUpdates", offset=last + 1, timeout=5)
    assert [u["message"]["text"] for u in body["result"]] == ["late"]
    assert 0.1 < loop.time() - started < 2

    # And waits for the timeout when nothing comes.
    started = loop.time()
    _, body = await raw_call(fake, "getUpdates", offset=last + 2, timeout=1)
    assert body["result"] == [] and loop.time() - started >= 0.9


async def test_concurrent_get_updates_terminates_the_older_one(fake: FakeBotApi) -> None:
    first = asyncio.create_task(raw_call(fake, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    status, body = await raw_call(fake, "getUpdates", timeout=0)
    assert (status, body) == (200, {"ok": True, "result": []})
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )


async def test_raw_protocol_json_and_query_string(fake: FakeBotApi) -> None:
    quinn = fake.user("Quinn")
    quinn.start_private()
    # JSON body with nested objects (not JSON strings), as other clients send it.
    status, body = await raw_call(
        fake,
        "sendMessage",
        chat_id=str(quinn.id),
        text="pick",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    assert status == 200 and body["ok"] is True
    result = body["result"]
    assert result["chat"] == {
        "id": quinn.id,
        "type": "private",
        "first_name": "Quinn",
    }
    assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert isinstance(result["date"], int)
    # GET with a query string; method names are case-insensitive.
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.api_url}/getme") as response,
    ):
        me = await response.json()
    assert me["ok"] is True and me["result"]["username"] == "dialogue_test_bot"
    assert me["result"]["is_bot"] is True
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{fake.api_url}/sendMessage", params={"chat_id": quinn.id, "text": "q"}
        ) as response,
    ):
        assert response.status == 200
    assert [m["text"] for m in fake.private_messages_to(quinn)] == ["pick", "q"]


async def test_allowed_updates_and_chat_member_updates(fake: FakeBotApi) -> None:
    jo = fake.user("Jo")
    group = fake.group("Members", kind="supergroup", bot_is_admin=True)
    # By default Telegram does not send chat_member updates.
    jo.join(group)
    assert [k for u in fake.pending_updates for k in u if k != "update_id"] == ["message"]
    assert [k for u in fake.dropped_updates for k in u if k != "update_id"] == ["chat_member"]

    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(ChatMemberHandler(collect(queue), ChatMemberHandler.CHAT_MEMBER))
    async with polling(app, allowed_updates=Update.ALL_TYPES):
        await asyncio.sleep(0.1)  # let the first getUpdates set allowed_updates
        jo.leave(group)
        update, _ = await next_item(queue)

    member_update = update.chat_member
    assert isinstance(member_update, ChatMemberUpdated)
    assert member_update.old_chat_member.status == "member"
    assert member_update.new_chat_member.status == "left"
    assert member_update.new_chat_member.user.id == jo.id
    assert fake.allowed_updates == list(Update.ALL_TYPES)


async def test_privacy_mode_filters_group_messages(fake: FakeBotApi) -> None:
    fake.can_read_all_group_messages = False
    kim = fake.user("Kim")
    group = fake.group("Private-ish", members=[kim])
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.ALL, collect(queue)))
    async with polling(app):
        me = await app.bot.get_me()
        assert me.can_read_all_group_messages is False
        kim.say(group, "chatter the bot must not see")
        kim.say(group, "/help")
        update, _ = await next_item(queue)
        assert update.message is not None and update.message.text == "/help"
        bot_message = await app.bot.send_message(group.id, "ask me")
        kim.say(group, "replying to the bot", reply_to=bot_message.message_id)
        update, _ = await next_item(queue)
        assert update.message is not None
        assert update.message.reply_to_message is not None
        assert update.message.reply_to_message.message_id == bot_message.message_id
        await asyncio.sleep(0.1)
        assert queue.empty()


# --------------------------------------------------------------------------- errors


async def test_unstarted_private_chat_is_forbidden(fake: FakeBotApi) -> None:
    lea = fake.user("Lea")
    app = build_app(fake)
    async with app:
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await app.bot.send_message(lea.id, "hello")
        lea.start_private()
        await app.bot.send_message(lea.id, "hello")
        lea.block_bot()
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(lea.id, "hello again")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await app.bot.send_message(123, "nobody")
    assert [m["text"] for m in fake.private_messages_to(lea)] == ["hello"]
    status = [c.http_status for c in fake.calls_to("sendMessage")]
    assert status == [403, 200, 403, 400]


async def test_not_modified_and_edits(fake: FakeBotApi) -> None:
    group = fake.group("Edit")
    app = build_app(fake)
    async with app:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        message = await app.bot.send_message(group.id, "Tally: 1", reply_markup=keyboard)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await message.edit_text("Tally: 1", reply_markup=keyboard)
        edited = await message.edit_text("Tally: 2", reply_markup=keyboard)
        assert edited.text == "Tally: 2" and edited.edit_date is not None
        # Editing the text without reply_markup removes the keyboard, as on Telegram.
        await app.bot.edit_message_text("Tally: 3", chat_id=group.id, message_id=message.id)
        assert "reply_markup" not in fake.messages_in(group)[0]
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await app.bot.edit_message_text("x", chat_id=group.id, message_id=999)
    [edited_last] = fake.messages_in(group)
    assert edited_last["text"] == "Tally: 3"


async def test_validation_errors_match_telegram(fake: FakeBotApi) -> None:
    group = fake.group("Validation")
    app = build_app(fake)
    async with app:
        bot = app.bot
        with pytest.raises(BadRequest, match="(?i)can't parse entities: unsupported start tag"):
            await bot.send_message(group.id, "1 <br> 2", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="(?i)can't find end tag corresponding"):
            await bot.send_message(group.id, "<b>open", parse_mode=ParseMode.HTML)
        # The bot sends HTML only: the fake refuses the other parse modes rather than guess.
        with pytest.raises(BadRequest, match="(?i)unsupported parse_mode"):
            await bot.send_message(group.id, "Hi!", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(group.id, "x" * 4097)
        await bot.send_message(group.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="(?i)message text is empty"):
            await bot.send_message(group.id, "   ")
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(
                group.id,
                "choose",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("long", callback_data="é" * 33)]]
                ),
            )
        with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
            await bot.send_message(group.id, "re", reply_to_message_id=999)
    error = fake.calls_to("sendMessage")[0].response
    assert error == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: can\'t parse entities: Unsupported start tag "br" '
        "at byte offset 2",
    }


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_429_and_rate_limiter_retry(fake: FakeBotApi) -> None:
    group = fake.group("Flood")
    fake.flood("sendMessage", times=1, retry_after=1)
    async with build_app(fake) as app:
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(group.id, "too fast")
        assert retry_after_seconds(caught.value) == 1
        await app.bot.send_message(group.id, "fine now")
    assert fake.calls_to("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }

    fake.flood("sendMessage", times=1, retry_after=1)
    limited = build_app(fake, rate_limiter=AIORateLimiter(max_retries=1))
    async with limited:
        started = time.monotonic()
        message = await limited.bot.send_message(group.id, "retried")
        assert time.monotonic() - started >= 1
    assert message.text == "retried"
    assert [c.http_status for c in fake.calls_to("sendMessage")][-2:] == [429, 200]


async def test_unknown_method_is_501(fake: FakeBotApi) -> None:
    status, body = await raw_call(fake, "sendDice", chat_id=1)
    assert status == 501
    assert body == {
        "ok": False,
        "error_code": 501,
        "description": "Not Implemented: fake Bot API has no method sendDice",
    }
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(NetworkError, match="fake Bot API has no method fooBar"):
            await bot.do_api_request("fooBar")
    # Wrong token: 401 like Telegram.
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.base_url}123:{'x' * 35}/getMe") as response,
    ):
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_migrated_group_raises_chat_migrated(fake: FakeBotApi) -> None:
    group = fake.group("Old group")
    supergroup = fake.migrate_to_supergroup(group)
    async with build_app(fake) as app:
        with pytest.raises(ChatMigrated) as caught:
            await app.bot.send_message(group.id, "hi")
        assert caught.value.new_chat_id == supergroup.id
        await app.bot.send_message(supergroup.id, "hi")


# --------------------------------------------------------------------------- other methods


async def test_get_me_and_commands(fake: FakeBotApi) -> None:
    group = fake.group("Commands", kind="supergroup")
    async with build_app(fake) as app:
        bot = app.bot
        assert bot.username == "dialogue_test_bot"
        assert bot.id == fake.bot_user.id == int(fake.token.split(":")[0])
        me = await bot.get_me()
        assert me.is_bot is True and me.can_read_all_group_messages is True

        default = [BotCommand("start", "Begin"), BotCommand("help", "Help")]
        scoped = [BotCommand("vote", "Cast a vote")]
        assert await bot.set_my_commands(default)
        assert await bot.set_my_commands(
            scoped, scope=BotCommandScopeChat(group.id), language_code="de"
        )
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert fake.commands_for() == [
        {"command": "start", "description": "Begin"},
        {"command": "help", "description": "Help"},
    ]
    assert fake.commands_for({"type": "chat", "chat_id": group.id}, "de") == [
        {"command": "vote", "description": "Cast a vote"}
    ]
    assert fake.commands_for({"type": "chat", "chat_id": group.id}) is None


async def test_chat_members_and_admins(fake: FakeBotApi) -> None:
    owner = fake.user("Olga")
    mia = fake.user("Mia")
    group = fake.group("Council", kind="supergroup", owner=owner, members=[mia])
    fake.add_admin(group, mia, custom_title="Facilitator")
    async with build_app(fake) as app:
        bot = app.bot
        me = await bot.get_chat_member(group.id, bot.id)
        assert me.status == "member"
        fake.set_bot_admin(group, True, can_delete_messages=False)
        me = await bot.get_chat_member(group.id, bot.id)
        assert isinstance(me, ChatMemberAdministrator)
        assert me.can_delete_messages is False and me.can_manage_chat is True

        admins = await bot.get_chat_administrators(group.id)
        assert [a.user.id for a in admins][0] == owner.id
        assert {a.user.id for a in admins} == {owner.id, mia.id, bot.id}
        assert (await bot.get_chat_member(group.id, mia.id)).custom_title == "Facilitator"
        stranger = fake.user("Stranger")
        assert (await bot.get_chat_member(group.id, stranger.id)).status == "left"
    kinds = [next(k for k in u if k != "update_id") for u in fake.pending_updates]
    assert kinds == ["my_chat_member"]


async def test_send_photo_upload_and_caption(fake: FakeBotApi) -> None:
    group = fake.group("Photos")
    png = _tiny_png(300, 200)
    async with build_app(fake) as app:
        bot = app.bot
        message = await bot.send_photo(
            group.id,
            InputFile(png, filename="chart.png"),
            caption="<i>Results</i>",
            parse_mode="HTML",
        )
        assert message.caption == "Results"
        assert message.caption_entities[0].type == MessageEntityType.ITALIC
        biggest = message.photo[-1]
        assert (biggest.width, biggest.height) == (300, 200)

        again = await bot.send_photo(group.id, biggest.file_id)
        assert again.photo[-1].file_id == biggest.file_id
        by_url = await bot.send_photo(group.id, "https://example.org/x.jpg")
        assert by_url.photo
        with pytest.raises(BadRequest, match="(?i)message caption is too long"):
            await bot.send_photo(group.id, biggest.file_id, caption="c" * 1025)
        with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
            await bot.send_photo(group.id, "no-such-file-id")
        with pytest.raises(BadRequest, match="(?i)image_process_failed"):
            await bot.send_photo(group.id, InputFile(b"not an image", filename="x.png"))
    call = fake.calls_to("sendPhoto")[0]
    assert call.params["photo"].data == png


async def test_user_media_and_membership_updates(fake: FakeBotApi) -> None:
    nia = fake.user("Nia")
    group = fake.group("Media", members=[nia])
    queue: asyncio.Queue[Received] = asyncio.Queue()
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.ALL, collect(queue)))
    newcomer = fake.user("Newcomer")
    async with polling(app):
        nia.send_sticker(group)
        nia.send_photo(group, caption="look")
        newcomer.join(group)
        updates = [(await next_item(queue))[0].message for _ in range(3)]
    sticker, photo, joined = updates
    assert sticker is not None and sticker.sticker is not None
    assert sticker.sticker.emoji == "👍"
    assert photo is not None and photo.photo and photo.caption == "look"
    assert joined is not None and [u.id for u in joined.new_chat_members] == [newcomer.id]


async def test_webhook_mode_conflict_and_delivery(fake: FakeBotApi) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    hook_app = web.Application()
    hook_app.router.add_post("/hook", hook)
    runner = web.AppRunner(hook_app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        olly = fake.user("Olly")
        olly.start_private()
        async with build_app(fake) as app:
            url = f"http://127.0.0.1:{port}/hook"
            assert await app.bot.set_webhook(url, secret_token="s3cret")
            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates()
            assert await fake.deliver_webhook_updates() == 1
            assert await app.bot.delete_webhook()
        [(secret, update)] = received
        assert secret == "s3cret"
        assert update["message"]["text"] == "/start"
    finally:
        await runner.cleanup()


async def test_telegram_user_helpers_validate_misuse(fake: FakeBotApi) -> None:
    pia = fake.user("Pia")
    outsider = fake.user("Out")
    group = fake.group("Closed", members=[pia])
    assert isinstance(pia, TelegramUser)
    with pytest.raises(ValueError, match="not a member"):
        outsider.say(group, "let me in")
    message = pia.say(group, "hi")
    with pytest.raises(ValueError, match="only edit their own"):
        outsider.edit(message, "hijack")
    reply = pia.say(group, "again", reply_to=message)
    assert reply["reply_to_message"]["message_id"] == message["message_id"]
    assert "reply_to_message" not in reply["reply_to_message"]
