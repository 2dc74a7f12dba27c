"""A fake Telegram Bot API server for driving python-telegram-bot in tests.

The server speaks the HTTP protocol of ``https://api.telegram.org`` (``/bot<token>/<method>``,
GET or POST with query string, urlencoded, JSON or multipart bodies, and the
``{"ok": ..., "result"/"error_code"/"description"/"parameters"}`` envelope) and keeps the
state a test needs: chats, members, topics, messages, updates, commands. It answers the
methods the bot calls (getMe, getUpdates, setWebhook, deleteWebhook, sendMessage, sendPhoto,
editMessageText, answerCallbackQuery, setMyCommands, getChatMember, getChatAdministrators), in
the parse mode the bot sends (HTML); any other method is answered 501 Not Implemented.

Point PTB at it with::

    fake = FakeBotApi()
    await fake.start()
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .build()
    )
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import secrets
import struct
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeAlias

import aiohttp
from aiohttp import web

from .formatting import (
    EntityParseError,
    detect_entities,
    parse_html,
    sort_entities,
    trim,
    utf16_len,
)
from .state import (
    FakeChat,
    ForumTopic,
    Membership,
    StoredFile,
    StoredMessage,
    now,
)
from .users import TelegramUser

JSONDict = dict[str, Any]
ChatRef: TypeAlias = "FakeChat | TelegramUser | int"
MessageRef: TypeAlias = "JSONDict | int"

_LOGGER = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
DEFAULT_ALLOWED_UPDATES_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
SERVICE_MESSAGE_FIELDS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

# How form-encoded parameter values are decoded (JSON bodies carry real types already).
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
        "icon_color",
        "until_date",
        "direct_messages_topic_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "for_channels",
        "revoke_messages",
        "only_if_banned",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "message_ids",
        "rights",
        "permissions",
        "media",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API.

    Attributes:
        code: HTTP status and ``error_code`` (400, 403, 404, 409, 429, 501, ...).
        description: Telegram's ``description`` (e.g. ``"Bad Request: chat not found"``).
        parameters: Optional ``ResponseParameters`` (``retry_after``, ``migrate_to_chat_id``).
    """

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSONDict:
        """Render the error envelope.

        Returns:
            ``{"ok": false, "error_code": ..., "description": ...[, "parameters": ...]}``.
        """
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class UploadedFile:
    """A file part of a multipart request.

    Attributes:
        field_name: Name of the form field.
        filename: File name given by the client.
        content_type: MIME type given by the client.
        data: The bytes.
    """

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class ApiCall:
    """One request the bot made, for assertions.

    Attributes:
        method: Method name (canonical spelling when the method is known).
        params: Parsed parameters (nested JSON decoded, numbers and booleans typed, uploaded
            files as ``UploadedFile``).
        http_status: Status code of the answer (0 while a long poll is still waiting).
        response: The JSON body that was answered.
    """

    method: str
    params: JSONDict
    http_status: int = 0
    response: JSONDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return bool(self.response.get("ok"))


@dataclass(frozen=True)
class BotUser:
    """The bot's own account as getMe describes it.

    Attributes:
        id: Bot user id (the number before ``:`` in the token).
        first_name: Display name.
        username: Username without ``@``.
    """

    id: int
    first_name: str
    username: str

    def to_dict(self) -> JSONDict:
        """Render as the User object that appears in the bot's messages.

        Returns:
            A User dict with ``is_bot`` True.
        """
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass
class _Result:
    value: Any
    description: str | None = None


@dataclass
class _Poll:
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    conflict: bool = False


class _Params:
    """Typed access to request parameters, with Telegram-like coercion and errors."""

    def __init__(self, values: JSONDict, files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name] is not None

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise _bad_request(f'parameter "{name}" is required')
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value)
        return str(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise _bad_request(f'parameter "{name}" is required')
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        return 0  # the Bot API reads unparsable integers as 0

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def get_json(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad_request(f"can't parse {what or name} JSON object") from None
        return value


def _decode_form_value(name: str, value: str) -> Any:
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in _INT_PARAMS and re.fullmatch(r"[-+]?\d+", value.strip()):
        return int(value)
    if name in _BOOL_PARAMS and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    return value


Handler = Callable[["FakeBotApi", _Params], Awaitable[Any]]
_HANDLERS: dict[str, tuple[str, Handler]] = {}


def _api_method(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _HANDLERS[name.lower()] = (name, func)
        return func

    return register


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG, JPEG, GIF or WebP image, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                index += 1
                continue
            marker = data[index + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                index += 2
                continue
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return None


def _tiny_png(width: int = 64, height: int = 48) -> bytes:
    """Build a valid single-colour PNG (used for photos that users send)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x30\x80\xc0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class FakeBotApi:
    """An in-process fake of the Telegram Bot API for python-telegram-bot.

    Start it (``await fake.start()`` or ``async with FakeBotApi() as fake``), build the PTB
    application with ``.token(fake.token).base_url(fake.base_url)``, create users and chats
    with the helpers and let the users act; then assert on what the bot sent (``messages_in``,
    ``wait_for``) or called (``calls``).

    Attributes:
        host: Interface the server listens on (127.0.0.1).
        port: TCP port (set by ``start``).
        token: Bot token (``"<bot id>:<secret>"``).
        bot_user: The bot's account.
        can_read_all_group_messages: Privacy mode off (True, default) or on (False); getMe
            reports it and group messages are filtered like Telegram does when it is False.
        can_join_groups: Reported by getMe.
        supports_inline_queries: Reported by getMe.
        users: Known users by id.
        chats: Known chats by id.
        calls: Every request received, in arrival order.
        callback_answers: answerCallbackQuery parameters by callback query id.
        commands: Bot commands by (scope key, language code); see ``commands_for``.
        webhook_url: URL set with setWebhook ("" when polling).
        webhook_secret_token: secret_token set with setWebhook.
        dropped_updates: Updates not queued because ``allowed_updates`` excluded them.
        confirmed_updates: Updates the bot confirmed (by offset or a webhook's 2xx), in order.
    """

    def __init__(
        self,
        *,
        bot_username: str = "dialogue_test_bot",
        bot_first_name: str = "Dialogue Test Bot",
        bot_id: int = 7_000_000_001,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.token = f"{bot_id}:AAF{secrets.token_urlsafe(24)[:32]}"
        self.bot_user = BotUser(id=bot_id, first_name=bot_first_name, username=bot_username)
        self.can_read_all_group_messages = True
        self.can_join_groups = True
        self.supports_inline_queries = False

        self.users: dict[int, TelegramUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.calls: list[ApiCall] = []
        self.callback_answers: dict[str, JSONDict] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        self.dropped_updates: list[JSONDict] = []
        self.confirmed_updates: list[JSONDict] = []

        self._updates: list[JSONDict] = []
        self._next_update_id = 800_000_001
        self._allowed_updates: list[str] | None = None
        self._updates_changed = asyncio.Event()
        self._bot_activity = asyncio.Event()
        self._active_poll: _Poll | None = None
        self._floods: list[list[Any]] = []  # [method lower or "*", remaining, retry_after]
        self._open_queries: dict[str, JSONDict] = {}
        self._photo_sets: dict[str, list[JSONDict]] = {}
        self._next_user_id = 500_000_001
        self._next_group_seq = 1
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._raw_answer: tuple[int, str, str] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url(...)``: PTB appends the token, then ``/<method>``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def api_url(self) -> str:
        """Full method URL prefix, ``<base_url><token>``, for raw HTTP calls."""
        return f"{self.base_url}{self.token}"

    async def start(self) -> None:
        """Start serving on ``host`` (a free port unless one was given)."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        self._closing = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered first so nothing is left running."""
        self._closing = True
        self._wake_pollers()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test controls

    def flood(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with 429 Too Many Requests.

        Args:
            method: Bot API method name (case-insensitive), or ``"*"`` for any method.
            times: How many calls to reject.
            retry_after: Seconds announced in ``parameters.retry_after``.
        """
        self._floods.append([method.lower(), times, retry_after])

    def answer_raw(self, status: int, body: str, content_type: str = "text/html") -> None:
        """Answer every API call from now on with a raw body, as a broken proxy would.

        ``{path}`` in ``body`` becomes the request's path (which holds the token), as some
        servers echo it in their error pages.
        """
        self._raw_answer = (status, body, content_type)

    def user(
        self,
        first_name: str,
        username: str | None = None,
        user_id: int | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
    ) -> TelegramUser:
        """Create a user.

        Args:
            first_name: First name.
            username: Optional username without ``@``.
            user_id: Explicit id (default: the next free one).
            last_name: Optional last name.
            language_code: Language of the user's client.
            is_premium: Whether the user has Telegram Premium.

        Returns:
            The new user.
        """
        if user_id is None:
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users or user_id == self.bot_user.id:
            raise ValueError(f"user id {user_id} is taken")
        user = TelegramUser(
            self,
            user_id,
            first_name,
            username=username,
            last_name=last_name,
            language_code=language_code,
            is_premium=is_premium,
        )
        self.users[user_id] = user
        return user

    def private_chat(self, user: TelegramUser) -> FakeChat:
        """Return (creating it if needed) the private chat of ``user`` with the bot.

        Args:
            user: The user.

        Returns:
            The private chat (its id is the user's id).
        """
        chat = self.chats.get(user.id)
        if chat is None:
            chat = FakeChat(
                id=user.id,
                type="private",
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
                chat_instance=self._new_chat_instance(),
            )
            chat.members[user.id] = Membership("member")
            chat.members[self.bot_user.id] = Membership("member")
            self.chats[user.id] = chat
        return chat

    def group(
        self,
        title: str,
        kind: str = "group",
        forum: bool = False,
        *,
        username: str | None = None,
        owner: TelegramUser | None = None,
        members: Iterable[TelegramUser] = (),
        bot_is_admin: bool = False,
        added_by: TelegramUser | None = None,
    ) -> FakeChat:
        """Create a group or supergroup that the bot is a member of.

        Args:
            title: Chat title.
            kind: ``"group"`` or ``"supergroup"``.
            forum: Enable topics (supergroups only).
            username: Public username (supergroups only).
            owner: The creator (default: a new user "Owner").
            members: Users who are already members.
            bot_is_admin: Make the bot an administrator.
            added_by: If given, the bot is added by this user *now*: a ``my_chat_member``
                update and a ``new_chat_members`` service message are queued.

        Returns:
            The new chat.
        """
        if kind not in {"group", "supergroup"}:
            raise ValueError("kind must be 'group' or 'supergroup'")
        if forum and kind != "supergroup":
            raise ValueError("only supergroups can be forums")
        seq = self._next_group_seq
        self._next_group_seq += 1
        chat_id = -(4_100_000_000 + seq) if kind == "group" else -(1_002_100_000_000 + seq)
        chat = FakeChat(
            id=chat_id,
            type=kind,
            title=title,
            username=username if kind == "supergroup" else None,
            is_forum=forum,
            chat_instance=self._new_chat_instance(),
        )
        self.chats[chat_id] = chat
        owner = owner or self.user("Owner")
        chat.members[owner.id] = Membership("creator")
        # Message 1 is the creation service message (and id 1 is the General topic of forums).
        created = "group_chat_created" if kind == "group" else "supergroup_chat_created"
        chat.messages[1] = StoredMessage(
            data={
                "message_id": chat.allocate_message_id(),
                "from": owner.to_dict(),
                "chat": chat.to_api(),
                "date": now(),
                created: True,
            },
            sent_by_bot=False,
        )
        for member in members:
            chat.members.setdefault(member.id, Membership("member"))
        if added_by is not None:
            chat.members.setdefault(added_by.id, Membership("member"))
            chat.members[self.bot_user.id] = Membership("left")
            self._change_bot_status(chat, Membership("member"), actor=added_by.to_dict())
            bot = self.bot_user.to_dict()
            self._post(
                chat,
                added_by.to_dict(),
                {"new_chat_participant": bot, "new_chat_member": bot, "new_chat_members": [bot]},
            )
        else:
            chat.members[self.bot_user.id] = Membership("member")
        if bot_is_admin:
            chat.members[self.bot_user.id] = Membership(
                "administrator", rights={"can_manage_topics": forum}
            )
        return chat

    def add_admin(
        self, chat: ChatRef, user: TelegramUser, custom_title: str | None = None, **rights: bool
    ) -> None:
        """Promote a user to administrator (joins them if needed).

        Args:
            chat: The group.
            user: The user to promote.
            custom_title: Optional admin title.
            **rights: ChatAdministratorRights overrides (``can_delete_messages=False``, ...).
        """
        target = self._chat(chat)
        old = target.members.get(user.id, Membership("left"))
        new = Membership("administrator", rights=dict(rights), custom_title=custom_title)
        target.members[user.id] = new
        self._chat_member_update(target, self._owner_dict(target), user.to_dict(), old, new)

    def set_bot_admin(
        self,
        chat: ChatRef,
        is_admin: bool = True,
        *,
        by: TelegramUser | None = None,
        **rights: bool,
    ) -> None:
        """Promote or demote the bot (queues the ``my_chat_member`` update Telegram sends).

        Args:
            chat: The group.
            is_admin: Administrator (True) or plain member (False).
            by: Who changed it (default: the chat owner).
            **rights: ChatAdministratorRights overrides.
        """
        target = self._chat(chat)
        new = Membership("administrator", rights=dict(rights)) if is_admin else Membership("member")
        actor = by.to_dict() if by is not None else self._owner_dict(target)
        self._change_bot_status(target, new, actor=actor)

    def create_topic(
        self,
        chat: ChatRef,
        name: str,
        *,
        by: TelegramUser | None = None,
        icon_color: int = 7322096,
    ) -> ForumTopic:
        """Create a forum topic as a user would (queues the forum_topic_created message).

        Args:
            chat: A forum supergroup.
            name: Topic name.
            by: Creator (default: the chat owner).
            icon_color: RGB icon colour.

        Returns:
            The topic; use ``topic.message_thread_id`` as ``thread_id``.
        """
        target = self._chat(chat)
        if not target.is_forum:
            raise ValueError(f"chat {target.id} is not a forum")
        sender = by.to_dict() if by is not None else self._owner_dict(target)
        return self._create_topic(target, sender, name, icon_color, None)

    def migrate_to_supergroup(self, chat: ChatRef, by: TelegramUser | None = None) -> FakeChat:
        """Upgrade a basic group to a supergroup, as Telegram does.

        Sending to the old id then fails with 400 and ``parameters.migrate_to_chat_id``.

        Args:
            chat: The basic group.
            by: Who upgraded it (default: the owner).

        Returns:
            The new supergroup.
        """
        old = self._chat(chat)
        if old.type != "group":
            raise ValueError("only basic groups can be migrated")
        seq = self._next_group_seq
        self._next_group_seq += 1
        new = FakeChat(
            id=-(1_002_100_000_000 + seq),
            type="supergroup",
            title=old.title,
            chat_instance=self._new_chat_instance(),
            members=copy.deepcopy(old.members),
        )
        self.chats[new.id] = new
        sender = by.to_dict() if by is not None else self._owner_dict(old)
        self._post(old, sender, {"migrate_to_chat_id": new.id})
        old.migrated_to = new.id
        self._post(new, sender, {"migrate_from_chat_id": old.id})
        return new

    # ------------------------------------------------------------------ reading helpers

    def messages_in(self, chat: ChatRef, *, include_deleted: bool = False) -> list[JSONDict]:
        """Messages the bot sent in a chat, in order, in their current (edited) state.

        Args:
            chat: A chat, chat id, or a user (their private chat).
            include_deleted: Also return messages the bot deleted.

        Returns:
            Message dicts (copies) with ``text``/``caption``/``reply_markup``/... fields.
        """
        target = self._chat(chat)
        return [
            stored.snapshot()
            for _, stored in sorted(target.messages.items())
            if stored.sent_by_bot and (include_deleted or not stored.deleted)
        ]

    def all_messages_in(self, chat: ChatRef) -> list[JSONDict]:
        """Every message in a chat (users' and the bot's), in order, deleted ones excluded.

        Args:
            chat: A chat, chat id, or a user (their private chat).

        Returns:
            Message dicts (copies).
        """
        target = self._chat(chat)
        return [s.snapshot() for _, s in sorted(target.messages.items()) if not s.deleted]

    def private_messages_to(self, user: TelegramUser) -> list[JSONDict]:
        """Messages the bot sent to ``user`` in private.

        Args:
            user: The user.

        Returns:
            Message dicts, in order.
        """
        if user.id not in self.chats:
            return []
        return self.messages_in(user)

    async def wait_for(
        self,
        predicate: Callable[[JSONDict], bool],
        timeout: float = 5.0,
        *,
        chat: ChatRef | None = None,
    ) -> JSONDict:
        """Wait until a message sent by the bot (possibly edited since) matches ``predicate``.

        Args:
            predicate: Called with each bot message dict (current state).
            timeout: Seconds to wait.
            chat: Only look in this chat.

        Returns:
            The first matching message dict.

        Raises:
            TimeoutError: If nothing matched in time (the message lists what the bot sent).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._bot_activity
            for message in self._bot_messages(chat):
                if predicate(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                sent = [
                    (m["chat"]["id"], m.get("text", m.get("caption")))
                    for m in self._bot_messages(chat)
                ]
                raise TimeoutError(f"no bot message matched within {timeout}s; bot sent: {sent}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive).

        Args:
            method: Bot API method name.

        Returns:
            The matching calls, in order.
        """
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def commands_for(
        self,
        scope: JSONDict | None = None,
        language_code: str = "",
    ) -> list[JSONDict] | None:
        """Commands set with setMyCommands for exactly this scope and language.

        Args:
            scope: A BotCommandScope dict (default ``{"type": "default"}``).
            language_code: Two-letter language code or "".

        Returns:
            The command list, or None if never set.
        """
        return self.commands.get((self._scope_key(scope or {"type": "default"}), language_code))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by the bot (copies)."""
        return copy.deepcopy(self._updates)

    @property
    def allowed_updates(self) -> list[str] | None:
        """The ``allowed_updates`` in force (None = Telegram's default set)."""
        return None if self._allowed_updates is None else list(self._allowed_updates)

    async def deliver_webhook_updates(self, timeout: float = 5.0) -> int:
        """POST pending updates, in order, to the webhook set with setWebhook.

        The ``X-Telegram-Bot-Api-Secret-Token`` header is sent when a secret was set. Updates
        answered with 2xx are confirmed; delivery stops at the first failure, which is then
        reported by getWebhookInfo (``last_error_date``/``last_error_message``).

        Args:
            timeout: Seconds per request.

        Returns:
            How many updates were delivered.

        Raises:
            RuntimeError: If no webhook is set.
        """
        if not self.webhook_url:
            raise RuntimeError("no webhook is set")
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret_token
        delivered = 0
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            while self._updates:
                update = self._updates[0]
                try:
                    async with session.post(
                        self.webhook_url, data=json.dumps(update), headers=headers
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    break  # the bot's end is not answering: the update stays queued
                if not 200 <= status < 300:
                    break
                self._confirm([self._updates.pop(0)])
                delivered += 1
        return delivered

    def redeliver(self, count: int) -> list[JSONDict]:
        """Queue the last ``count`` confirmed updates again, with their original update_id.

        Telegram sends an update again when it did not learn that the bot got it: the bot
        stopped before its next getUpdates confirmed the offset, or a webhook request failed
        after the bot had handled it. This replays that, ahead of any pending update.

        Args:
            count: How many of the most recently confirmed updates to send again.

        Returns:
            The updates queued again (copies).
        """
        again = copy.deepcopy(self.confirmed_updates[-count:]) if count > 0 else []
        self._updates = sorted(again + self._updates, key=lambda u: u["update_id"])
        self._wake_pollers()
        return copy.deepcopy(again)

    # ------------------------------------------------------------------ user actions
    # (called by TelegramUser; public so the user module can reach them)

    def user_sends(
        self,
        user: TelegramUser,
        chat: ChatRef,
        content: JSONDict,
        reply_to: MessageRef | None,
        thread_id: int | None,
    ) -> JSONDict:
        """Post a message from ``user`` (see ``TelegramUser.say``).

        Args:
            user: The sender.
            chat: Target chat.
            content: Message fields (``text``, ``sticker``, ``photo``, ``caption``).
            reply_to: Message replied to.
            thread_id: Forum topic.

        Returns:
            The Message dict.
        """
        target = self._chat(chat)
        if target.type == "private":
            if target.id != user.id:
                raise ValueError(f"{user!r} cannot write in another user's private chat")
            user.has_started_bot = True
            if user.has_blocked_bot:
                user.has_blocked_bot = False
                self._private_block_update(user, blocked=False)
        else:
            membership = target.members.get(user.id)
            if membership is None or not membership.is_member:
                raise ValueError(f"{user!r} is not a member of chat {target.id}")
            if target.migrated_to is not None:
                raise ValueError(f"chat {target.id} was migrated to {target.migrated_to}")
        content = dict(content)
        for text_field, entity_field in (("text", "entities"), ("caption", "caption_entities")):
            if text_field in content:
                value = content[text_field]
                if not value or len(value) > (
                    MAX_TEXT_LENGTH if text_field == "text" else MAX_CAPTION_LENGTH
                ):
                    raise ValueError(f"invalid {text_field} length")
                entities = detect_entities(value)
                if entities:
                    content[entity_field] = sort_entities(entities)
        reply = self._message_from_ref(target, reply_to) if reply_to is not None else None
        return self._post(target, user.to_dict(), content, reply_to=reply, thread_id=thread_id)

    def user_edits(
        self, user: TelegramUser, message: MessageRef, new_text: str, chat: ChatRef | None
    ) -> JSONDict:
        """Edit a user's text message (see ``TelegramUser.edit``).

        Args:
            user: The author.
            message: The message dict or id.
            new_text: New text.
            chat: Chat when ``message`` is an id.

        Returns:
            The edited Message dict.
        """
        target = self._chat_of(message, chat)
        stored = self._message_from_ref(target, message)
        if stored.data.get("from", {}).get("id") != user.id or "text" not in stored.data:
            raise ValueError("users can only edit their own text messages")
        stored.history.append(stored.snapshot())
        stored.data["text"] = new_text
        stored.data.pop("entities", None)
        entities = detect_entities(new_text)
        if entities:
            stored.data["entities"] = sort_entities(entities)
        stored.data["edit_date"] = now()
        snapshot = stored.snapshot()
        if self._bot_sees(target, snapshot):
            self._enqueue("edited_message", snapshot)
        return stored.snapshot()

    def user_presses(
        self, user: TelegramUser, message: MessageRef, data: str, chat: ChatRef | None
    ) -> JSONDict:
        """Press an inline button (see ``TelegramUser.press``).

        Args:
            user: Who pressed.
            message: The bot message dict or id.
            data: The button's callback_data.
            chat: Chat when ``message`` is an id.

        Returns:
            The CallbackQuery dict.
        """
        target = self._chat_of(message, chat)
        stored = self._message_from_ref(target, message)
        if not stored.sent_by_bot:
            raise ValueError("only the bot's messages have inline keyboards")
        membership = target.members.get(user.id)
        if target.type == "private" and target.id != user.id:
            raise ValueError(f"{user!r} cannot see another user's private chat")
        if target.type != "private" and (membership is None or not membership.is_member):
            raise ValueError(f"{user!r} is not a member of chat {target.id}")
        keyboard = stored.data.get("reply_markup", {}).get("inline_keyboard", [])
        available = [b.get("callback_data") for row in keyboard for b in row]
        if data not in available:
            raise ValueError(f"message has no button with callback_data {data!r}: {available}")
        query_id = str(secrets.randbits(62) + 10**17)
        query: JSONDict = {
            "id": query_id,
            "from": user.to_dict(),
            "message": stored.snapshot(),
            "chat_instance": target.chat_instance,
            "data": data,
        }
        self._open_queries[query_id] = query
        self._enqueue("callback_query", query)
        return copy.deepcopy(query)

    def user_joins(self, user: TelegramUser, chat: ChatRef) -> JSONDict:
        """Add ``user`` to a group (see ``TelegramUser.join``).

        Args:
            user: The user.
            chat: The group.

        Returns:
            The service message.
        """
        target = self._chat(chat)
        if target.type == "private":
            raise ValueError("cannot join a private chat")
        old = target.members.get(user.id, Membership("left"))
        if old.is_member:
            raise ValueError(f"{user!r} is already a member of chat {target.id}")
        new = Membership("member")
        target.members[user.id] = new
        me = user.to_dict()
        message = self._post(
            target,
            me,
            {"new_chat_participant": me, "new_chat_member": me, "new_chat_members": [me]},
        )
        self._chat_member_update(target, me, me, old, new)
        return message

    def user_leaves(self, user: TelegramUser, chat: ChatRef) -> JSONDict:
        """Remove ``user`` from a group (see ``TelegramUser.leave``).

        Args:
            user: The user.
            chat: The group.

        Returns:
            The service message.
        """
        target = self._chat(chat)
        old = target.members.get(user.id)
        if target.type == "private" or old is None or not old.is_member:
            raise ValueError(f"{user!r} is not a member of chat {target.id}")
        new = Membership("left")
        target.members[user.id] = new
        me = user.to_dict()
        message = self._post(target, me, {"left_chat_participant": me, "left_chat_member": me})
        self._chat_member_update(target, me, me, old, new)
        return message

    def user_blocks(self, user: TelegramUser, *, blocked: bool) -> None:
        """Block or unblock the bot (see ``TelegramUser.block_bot``).

        Args:
            user: The user.
            blocked: New state.
        """
        if user.has_blocked_bot == blocked:
            return
        user.has_blocked_bot = blocked
        self.private_chat(user)
        self._private_block_update(user, blocked=blocked)

    def new_sticker(self, emoji: str) -> JSONDict:
        """Create a sticker object (as a user would send it).

        Args:
            emoji: The sticker's emoji.

        Returns:
            A Sticker dict.
        """
        stored = self._store_file("sticker", _tiny_png(512, 512), "webp", 512, 512)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
            "file_size": len(stored.data),
        }

    def new_user_photo(self) -> list[JSONDict]:
        """Create a PhotoSize list (as a user would send it).

        Returns:
            PhotoSize dicts, smallest first.
        """
        data = _tiny_png(640, 480)
        return self._photo_sizes(data, 640, 480)

    # ------------------------------------------------------------------ internals: chats

    def _new_chat_instance(self) -> str:
        return str(secrets.randbits(63) - (1 << 62))

    def _chat(self, ref: ChatRef | FakeBotApi) -> FakeChat:
        if isinstance(ref, FakeChat):
            return self.chats.get(ref.id, ref)
        if isinstance(ref, TelegramUser):
            return self.private_chat(ref)
        if isinstance(ref, int) and not isinstance(ref, bool):
            if ref in self.chats:
                return self.chats[ref]
            if ref in self.users:
                return self.private_chat(self.users[ref])
        raise ValueError(f"unknown chat {ref!r}")

    def _chat_of(self, message: MessageRef, chat: ChatRef | None) -> FakeChat:
        if chat is not None:
            return self._chat(chat)
        if isinstance(message, dict):
            return self._chat(int(message["chat"]["id"]))
        raise ValueError("pass chat= when referring to a message by id")

    def _message_from_ref(self, chat: FakeChat, ref: MessageRef) -> StoredMessage:
        message_id = int(ref["message_id"]) if isinstance(ref, dict) else int(ref)
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise ValueError(f"no message {message_id} in chat {chat.id}")
        return stored

    def _owner_dict(self, chat: FakeChat) -> JSONDict:
        for user_id, membership in chat.members.items():
            if membership.status == "creator" and user_id in self.users:
                return self.users[user_id].to_dict()
        return self.bot_user.to_dict()

    def _user_dict(self, user_id: int) -> JSONDict | None:
        if user_id == self.bot_user.id:
            return self.bot_user.to_dict()
        user = self.users.get(user_id)
        return user.to_dict() if user is not None else None

    def _kind(self, chat: FakeChat) -> str:
        return "supergroup" if chat.type == "supergroup" else "group"

    def _find_chat(self, chat_id: int | str) -> FakeChat:
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            for chat in self.chats.values():
                if chat.type != "private" and chat.username and chat.username.lower() == name:
                    return chat
            raise _bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None and chat_id in self.users:
            found = self.private_chat(self.users[chat_id])
        if found is None:
            raise _bad_request("chat not found")
        return found

    def _chat_param(self, p: _Params) -> FakeChat:
        value = p.raw("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        if isinstance(value, str) and not re.fullmatch(r"[-+]?\d+", value.strip()):
            if not value.startswith("@"):
                raise _bad_request("chat not found")
            return self._find_chat(value)
        chat_id = p.get_int("chat_id")
        assert chat_id is not None
        return self._find_chat(chat_id)

    def _check_can_read(self, chat: FakeChat) -> None:
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            return
        membership = chat.members.get(self.bot_user.id)
        if membership is not None and membership.status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {self._kind(chat)} chat")
        if membership is None or not membership.is_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {self._kind(chat)} chat")

    def _check_can_write(self, chat: FakeChat) -> None:
        self._check_can_read(chat)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.has_blocked_bot:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not user.has_started_bot:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _writable_chat(self, p: _Params) -> FakeChat:
        chat = self._chat_param(p)
        self._check_can_write(chat)
        return chat

    def _readable_chat(self, p: _Params) -> FakeChat:
        chat = self._chat_param(p)
        self._check_can_read(chat)
        return chat

    def _bot_membership(self, chat: FakeChat) -> Membership:
        return chat.members.get(self.bot_user.id, Membership("left"))

    # ------------------------------------------------------------------ internals: updates

    def _is_allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in DEFAULT_ALLOWED_UPDATES_EXCLUDED
        return kind in self._allowed_updates

    def _enqueue(self, kind: str, payload: JSONDict) -> JSONDict | None:
        update = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        if not self._is_allowed(kind):
            self.dropped_updates.append(update)
            return None
        self._updates.append(update)
        self._wake_pollers()
        return update

    def _confirm(self, updates: list[JSONDict]) -> None:
        self.confirmed_updates.extend(updates)

    def _wake_pollers(self) -> None:
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    def _notify_bot_activity(self) -> None:
        event, self._bot_activity = self._bot_activity, asyncio.Event()
        event.set()

    def _bot_messages(self, chat: ChatRef | None) -> list[JSONDict]:
        chats = [self._chat(chat)] if chat is not None else list(self.chats.values())
        found: list[JSONDict] = []
        for target in chats:
            found.extend(
                s.snapshot()
                for _, s in sorted(target.messages.items())
                if s.sent_by_bot and not s.deleted
            )
        return found

    def _bot_sees(self, chat: FakeChat, message: JSONDict) -> bool:
        """Whether Telegram would deliver this message to the bot."""
        if chat.type == "private":
            return True
        bot_membership = self._bot_membership(chat)
        if not bot_membership.is_member:
            return False
        if self.can_read_all_group_messages or bot_membership.is_admin:
            return True
        if any(key in message for key in SERVICE_MESSAGE_FIELDS):
            return True
        text = message.get("text") or message.get("caption") or ""
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            _, at, target = command.partition("@")
            return not at or target.lower() == self.bot_user.username.lower()
        reply = message.get("reply_to_message")
        return bool(reply and reply.get("from", {}).get("id") == self.bot_user.id)

    def _chat_member_update(
        self,
        chat: FakeChat,
        actor: JSONDict,
        user: JSONDict,
        old: Membership,
        new: Membership,
    ) -> None:
        if not self._bot_membership(chat).is_admin:
            return  # chat_member updates need the bot to be an administrator
        self._enqueue(
            "chat_member",
            {
                "chat": chat.to_api(),
                "from": actor,
                "date": now(),
                "old_chat_member": old.to_api(user, chat.type),
                "new_chat_member": new.to_api(user, chat.type),
            },
        )

    def _change_bot_status(self, chat: FakeChat, new: Membership, actor: JSONDict) -> None:
        old = self._bot_membership(chat)
        chat.members[self.bot_user.id] = new
        bot = self.bot_user.to_dict()
        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": actor,
                "date": now(),
                "old_chat_member": old.to_api(bot, chat.type),
                "new_chat_member": new.to_api(bot, chat.type),
            },
        )

    def _private_block_update(self, user: TelegramUser, *, blocked: bool) -> None:
        chat = self.private_chat(user)
        old = Membership("member") if blocked else Membership("kicked")
        new = Membership("kicked") if blocked else Membership("member")
        bot = self.bot_user.to_dict()
        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_dict(),
                "date": now(),
                "old_chat_member": old.to_api(bot, "private"),
                "new_chat_member": new.to_api(bot, "private"),
            },
        )

    # ------------------------------------------------------------------ internals: messages

    @staticmethod
    def _as_reply(stored: StoredMessage) -> JSONDict:
        data = stored.snapshot()
        data.pop("reply_to_message", None)
        return data

    def _thread(
        self,
        chat: FakeChat,
        thread_id: int | None,
        reply_to: StoredMessage | None,
        *,
        sender_is_admin: bool,
    ) -> tuple[int | None, bool, StoredMessage | None]:
        """Resolve (message_thread_id, is_topic_message, reply target) for a new message."""
        if chat.type != "supergroup":
            return None, False, reply_to
        if chat.is_forum:
            if reply_to is not None and thread_id is None:
                thread_id = reply_to.data.get("message_thread_id")
            if thread_id is None or thread_id == 1:
                return None, False, reply_to
            topic = chat.topics.get(thread_id)
            if topic is None:
                raise _bad_request("message thread not found")
            if topic.is_closed and not sender_is_admin:
                raise _bad_request("TOPIC_CLOSED")
            if reply_to is None:
                # In topics, messages implicitly reply to the topic's creation message.
                reply_to = chat.messages.get(topic.message_thread_id)
            return topic.message_thread_id, True, reply_to
        if reply_to is not None:
            root = reply_to.data.get("message_thread_id") or reply_to.data["message_id"]
            return int(root), False, reply_to
        if thread_id is not None:
            root_message = chat.messages.get(thread_id)
            if root_message is None or root_message.deleted:
                raise _bad_request("message thread not found")
            return thread_id, False, root_message
        return None, False, None

    def _post(
        self,
        chat: FakeChat,
        sender: JSONDict,
        content: JSONDict,
        *,
        reply_to: StoredMessage | None = None,
        thread_id: int | None = None,
        by_bot: bool = False,
    ) -> JSONDict:
        """Create, store and (for users' messages) deliver a message."""
        membership = chat.members.get(int(sender["id"]))
        thread, is_topic, reply = self._thread(
            chat,
            thread_id,
            reply_to,
            sender_is_admin=bool(membership and membership.is_admin),
        )
        message: JSONDict = {"message_id": chat.allocate_message_id()}
        if thread is not None:
            message["message_thread_id"] = thread
        message["from"] = sender
        message["chat"] = chat.to_api()
        message["date"] = now()
        if is_topic:
            message["is_topic_message"] = True
        if reply is not None:
            message["reply_to_message"] = self._as_reply(reply)
        message.update(copy.deepcopy(content))
        chat.messages[message["message_id"]] = StoredMessage(data=message, sent_by_bot=by_bot)
        snapshot = copy.deepcopy(message)
        if by_bot:
            self._notify_bot_activity()
        elif self._bot_sees(chat, snapshot):
            self._enqueue("message", snapshot)
        return snapshot

    def _create_topic(
        self,
        chat: FakeChat,
        sender: JSONDict,
        name: str,
        icon_color: int,
        icon_custom_emoji_id: str | None,
    ) -> ForumTopic:
        message_id = chat.next_message_id
        topic = ForumTopic(
            message_thread_id=message_id,
            name=name,
            icon_color=icon_color,
            icon_custom_emoji_id=icon_custom_emoji_id,
        )
        created: JSONDict = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        by_bot = sender["id"] == self.bot_user.id
        chat.topics[message_id] = topic
        chat.next_message_id += 1
        message: JSONDict = {
            "message_id": message_id,
            "message_thread_id": message_id,
            "from": sender,
            "chat": chat.to_api(),
            "date": now(),
            "is_topic_message": True,
            "forum_topic_created": created,
        }
        chat.messages[message_id] = StoredMessage(data=message, sent_by_bot=by_bot)
        if not by_bot and self._bot_sees(chat, message):
            self._enqueue("message", message)
        return topic

    def _store_file(
        self, kind: str, data: bytes, extension: str, width: int = 0, height: int = 0
    ) -> StoredFile:
        prefix = {"photo": "AgACAgIAAxkBAAI", "sticker": "CAACAgIAAxkBAAI"}.get(kind, "BQACAgIAAxk")
        file_id = prefix + secrets.token_urlsafe(40)[:54]
        stored = StoredFile(
            file_id=file_id,
            file_unique_id="AQAD" + secrets.token_urlsafe(12)[:12],
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{len(self.files)}.{extension}",
            width=width,
            height=height,
        )
        self.files[file_id] = stored
        return stored

    def _photo_sizes(self, data: bytes | None, width: int, height: int) -> list[JSONDict]:
        biggest = max(width, height, 1)
        limits = [limit for limit in (90, 320, 800, 1280) if limit < biggest] + [min(biggest, 2560)]
        sizes: list[JSONDict] = []
        for limit in limits:
            scale = min(1.0, limit / biggest)
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            stored = self._store_file("photo", data or b"", "jpg", w, h)
            size: JSONDict = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": w,
                "height": h,
            }
            if data:
                size["file_size"] = max(1, round(len(data) * scale * scale))
            sizes.append(size)
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def _formatted(
        self,
        p: _Params,
        text_field: str,
        entities_field: str,
        *,
        limit: int,
        required: bool,
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode/entities to a text parameter and enforce Telegram's limits."""
        raw = p.get_str(text_field) or ""
        parse_mode = p.get_str("parse_mode") or ""
        entities: list[JSONDict]
        if p.has(entities_field):
            given = p.get_json(entities_field, "entities")
            if not isinstance(given, list):
                raise _bad_request("can't parse entities JSON object")
            entities = [dict(e) for e in given if isinstance(e, dict)]
            text = raw
        elif parse_mode:
            if parse_mode.lower() != "html":
                raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
            known = {uid: u.to_dict() for uid, u in self.users.items()}
            try:
                text, entities = parse_html(raw, known)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc.reason}") from None
        else:
            text, entities = raw, []
        text, entities = trim(text, entities)
        if required and not text:
            raise _bad_request("message text is empty")
        if len(text) > limit:
            raise _bad_request(
                "message is too long" if text_field == "text" else "message caption is too long"
            )
        total = utf16_len(text)
        for entity in entities:
            offset, length = entity.get("offset"), entity.get("length")
            if not isinstance(offset, int) or not isinstance(length, int):
                raise _bad_request("can't parse entities: entity offset/length must be integers")
            if offset < 0 or length <= 0 or offset + length > total:
                raise _bad_request("can't parse entities: entity is out of the text")
        return text, sort_entities(entities)

    def _inline_markup(self, p: _Params) -> JSONDict | None:
        """Validate reply_markup; return it if it is an inline keyboard (echoed in messages)."""
        if not p.has("reply_markup"):
            return None
        markup = p.get_json("reply_markup", "reply keyboard markup")
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if not any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        if not any(rows):
            return None
        actions = (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        clean_rows: list[list[JSONDict]] = []
        for row in rows:
            clean_row: list[JSONDict] = []
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text must be String")
                present = [key for key in actions if key in button]
                if not present:
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(str(data).encode("utf-8"))
                    if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = str(button["url"])
                    if not re.match(r"^(https?|tg)://\S+$", url, re.IGNORECASE):
                        raise _bad_request("BUTTON_URL_INVALID")
                clean_row.append(dict(button))
            clean_rows.append(clean_row)
        return {"inline_keyboard": clean_rows}

    def _link_preview(self, p: _Params) -> JSONDict | None:
        if p.has("link_preview_options"):
            options = p.get_json("link_preview_options", "link preview options")
            if not isinstance(options, dict):
                raise _bad_request("can't parse link preview options JSON object")
            return options or None
        if p.get_bool("disable_web_page_preview"):
            return {"is_disabled": True}
        return None

    def _reply_target(self, chat: FakeChat, p: _Params) -> StoredMessage | None:
        allow = p.get_bool("allow_sending_without_reply")
        message_id: int | None = None
        target_chat = chat
        if p.has("reply_parameters"):
            params = p.get_json("reply_parameters", "reply parameters")
            if not isinstance(params, dict):
                raise _bad_request("can't parse reply parameters JSON object")
            message_id = params.get("message_id")
            allow = allow or bool(params.get("allow_sending_without_reply"))
            if params.get("chat_id") not in (None, chat.id):
                target_chat = self._find_chat(params["chat_id"])
        elif p.has("reply_to_message_id"):
            message_id = p.get_int("reply_to_message_id")
        if not message_id:
            return None
        stored = target_chat.messages.get(int(message_id))
        if stored is None or stored.deleted:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return stored

    def _send(
        self,
        chat: FakeChat,
        p: _Params,
        content: JSONDict,
    ) -> JSONDict:
        markup = self._inline_markup(p)
        if markup is not None:
            content["reply_markup"] = markup
        elif p.has("reply_markup"):
            chat.reply_keyboard = p.get_json("reply_markup")
        if p.get_bool("protect_content"):
            content["has_protected_content"] = True
        reply = self._reply_target(chat, p)
        return self._post(
            chat,
            self.bot_user.to_dict(),
            content,
            reply_to=reply,
            thread_id=p.get_int("message_thread_id"),
            by_bot=True,
        )

    def _editable(self, p: _Params) -> tuple[FakeChat, StoredMessage]:
        if p.has("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._readable_chat(p)
        message_id = p.get_int("message_id")
        if not message_id:
            raise _bad_request("message identifier is not specified")
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise _bad_request("message to edit not found")
        if not stored.sent_by_bot:
            raise _bad_request("message can't be edited")
        return chat, stored

    def _apply_edit(self, stored: StoredMessage, changes: JSONDict, removed: list[str]) -> JSONDict:
        current = {k: stored.data.get(k) for k in list(changes) + removed}
        wanted = {**{k: None for k in removed}, **changes}
        if current == wanted:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        stored.history.append(stored.snapshot())
        for key in removed:
            stored.data.pop(key, None)
        stored.data.update(copy.deepcopy(changes))
        stored.data["edit_date"] = now()
        self._notify_bot_activity()
        return stored.snapshot()

    def _scope_key(self, scope: Any) -> str:
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        simple = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
        if kind in simple:
            return kind
        if kind not in {"chat", "chat_administrators", "chat_member"}:
            raise _bad_request("wrong bot command scope type specified")
        chat_id = scope.get("chat_id")
        if chat_id is None:
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str) and re.fullmatch(r"[-+]?\d+", chat_id):
            chat_id = int(chat_id)
        chat = self._find_chat(chat_id)
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) and not (
                isinstance(user_id, str) and user_id.isdigit()
            ):
                raise _bad_request("user_id is empty")
            return f"chat_member:{chat.id}:{int(user_id)}"
        return f"{kind}:{chat.id}"

    def _commands_key(self, p: _Params) -> tuple[str, str]:
        scope = p.get_json("scope", "BotCommandScope") if p.has("scope") else {"type": "default"}
        language = p.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad_request("invalid language code specified")
        return self._scope_key(scope), language

    # ------------------------------------------------------------------ HTTP

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        values: JSONDict = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return values, files
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON object expected")
            values.update(body)
            return values, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(
                    field_name=name,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            else:
                values[name] = _decode_form_value(name, str(value))
        return values, files

    def _flooded(self, method: str) -> int | None:
        for flood in self._floods:
            if flood[0] in (method.lower(), "*") and flood[1] > 0:
                flood[1] -= 1
                return int(flood[2])
        return None

    async def _handle_api(self, request: web.Request) -> web.Response:
        if self._raw_answer is not None:
            status, text, content_type = self._raw_answer
            text = text.replace("{path}", request.path)
            return web.Response(status=status, text=text, content_type=content_type)
        token = request.match_info["token"]
        method = request.match_info["method"]
        if token != self.token:
            if re.fullmatch(r"\d+:[\w-]{30,}", token):
                return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
            return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
        entry = _HANDLERS.get(method.lower())
        call = ApiCall(method=entry[0] if entry else method, params={})
        self.calls.append(call)
        status = 200
        try:
            values, files = await self._read_params(request)
            call.params = {**values, **files}
            retry_after = self._flooded(call.method)
            if retry_after is not None:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            if entry is None:
                raise ApiError(501, f"Not Implemented: fake Bot API has no method {method}")
            result = await entry[1](self, _Params(values, files))
            if isinstance(result, _Result):
                body: JSONDict = {"ok": True, "result": result.value}
                if result.description:
                    body["description"] = result.description
            else:
                body = {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, exc.to_json()
        except Exception as exc:  # a bug in the fake: answer like Telegram's 500
            _LOGGER.exception("fake Bot API failed in %s", method)
            status, body = 500, {"ok": False, "error_code": 500, "description": repr(exc)}
        call.http_status, call.response = status, body
        return web.json_response(body, status=status)

    # ------------------------------------------------------------------ methods: updates

    @_api_method("getMe")
    async def _get_me(self, p: _Params) -> JSONDict:
        return {
            **self.bot_user.to_dict(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_allowed_updates(self, p: _Params) -> None:
        if not p.has("allowed_updates"):
            return
        allowed = p.get_json("allowed_updates", "allowed updates")
        if not isinstance(allowed, list):
            raise _bad_request("can't parse allowed updates JSON object")
        self._allowed_updates = [str(kind) for kind in allowed] or None

    @_api_method("getUpdates")
    async def _get_updates(self, p: _Params) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get_int("offset") or 0
        limit = p.get_int("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(p.get_int("timeout") or 0, 0)
        self._set_allowed_updates(p)
        if offset < 0:
            self._confirm(self._updates[:offset])
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._confirm([u for u in self._updates if u["update_id"] < offset])
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

        if self._active_poll is not None:
            self._active_poll.conflict = True
            self._active_poll.wakeup.set()
        poll = _Poll()
        self._active_poll = poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.conflict:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                if self._updates or self._closing:
                    return copy.deepcopy(self._updates[:limit])
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                changed = self._updates_changed
                waiters = [asyncio.ensure_future(changed.wait())]
                waiters.append(asyncio.ensure_future(poll.wakeup.wait()))
                try:
                    await asyncio.wait(waiters, timeout=remaining, return_when="FIRST_COMPLETED")
                finally:
                    for waiter in waiters:
                        waiter.cancel()
                    await asyncio.gather(*waiters, return_exceptions=True)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    @_api_method("setWebhook")
    async def _set_webhook(self, p: _Params) -> _Result:
        url = p.get_str("url") or ""
        if url and not re.match(r"^https?://[^\s/]+", url):
            raise _bad_request("bad webhook: invalid webhook URL specified")
        secret = p.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad_request("secret token contains unallowed characters")
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed_updates(p)
        if not url:
            already = not self.webhook_url
            self.webhook_url, self.webhook_secret_token = "", None
            return _Result(True, "Webhook is already deleted" if already else "Webhook was deleted")
        unchanged = url == self.webhook_url and secret == self.webhook_secret_token
        self.webhook_url = url
        self.webhook_secret_token = secret
        self._wake_pollers()
        return _Result(True, "Webhook is already set" if unchanged else "Webhook was set")

    @_api_method("deleteWebhook")
    async def _delete_webhook(self, p: _Params) -> _Result:
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        already = not self.webhook_url
        self.webhook_url, self.webhook_secret_token = "", None
        return _Result(True, "Webhook is already deleted" if already else "Webhook was deleted")

    # ------------------------------------------------------------------ methods: sending

    @_api_method("sendMessage")
    async def _send_message(self, p: _Params) -> JSONDict:
        chat = self._writable_chat(p)
        text, entities = self._formatted(
            p, "text", "entities", limit=MAX_TEXT_LENGTH, required=True
        )
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        preview = self._link_preview(p)
        if preview:
            content["link_preview_options"] = preview
        return self._send(chat, p, content)

    @_api_method("sendPhoto")
    async def _send_photo(self, p: _Params) -> JSONDict:
        chat = self._writable_chat(p)
        photo = p.raw("photo")
        upload = p.files.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            upload = p.files.get(photo.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        sizes: list[JSONDict]
        if upload is not None:
            dimensions = _image_size(upload.data)
            if dimensions is None:
                raise _bad_request("IMAGE_PROCESS_FAILED")
            sizes = self._photo_sizes(upload.data, *dimensions)
        elif isinstance(photo, str) and photo:
            if re.match(r"^https?://", photo, re.IGNORECASE):
                sizes = self._photo_sizes(None, 1280, 720)
            elif photo in self._photo_sets:
                sizes = copy.deepcopy(self._photo_sets[photo])
            else:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request("there is no photo in the request")
        caption, entities = self._formatted(
            p, "caption", "caption_entities", limit=MAX_CAPTION_LENGTH, required=False
        )
        content: JSONDict = {"photo": sizes}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        if p.get_bool("has_spoiler"):
            content["has_media_spoiler"] = True
        if p.get_bool("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return self._send(chat, p, content)

    # ------------------------------------------------------------------ methods: editing

    @_api_method("editMessageText")
    async def _edit_message_text(self, p: _Params) -> JSONDict:
        _, stored = self._editable(p)
        if "text" not in stored.data:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted(
            p, "text", "entities", limit=MAX_TEXT_LENGTH, required=True
        )
        changes: JSONDict = {"text": text}
        removed: list[str] = []
        for key, value in (
            ("entities", entities or None),
            ("reply_markup", self._inline_markup(p)),
            ("link_preview_options", self._link_preview(p)),
        ):
            if value is None:
                removed.append(key)
            else:
                changes[key] = value
        return self._apply_edit(stored, changes, removed)

    @_api_method("answerCallbackQuery")
    async def _answer_callback_query(self, p: _Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        query = self._open_queries.get(query_id)
        if query is None or query_id in self.callback_answers:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.callback_answers[query_id] = {
            "text": p.get_str("text"),
            "show_alert": p.get_bool("show_alert"),
            "url": p.get_str("url"),
            "cache_time": p.get_int("cache_time") or 0,
        }
        return True

    # ------------------------------------------------------------------ methods: bot profile

    @_api_method("setMyCommands")
    async def _set_my_commands(self, p: _Params) -> bool:
        commands = p.get_json("commands", "bot commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse bot commands JSON object")
        clean: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _COMMAND_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = self._commands_key(p)
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    # ------------------------------------------------------------------ methods: chats

    @_api_method("getChatMember")
    async def _get_chat_member(self, p: _Params) -> JSONDict:
        chat = self._readable_chat(p)
        user_id = p.get_int("user_id")
        if not user_id:
            raise _bad_request("user_id is empty")
        user = self._user_dict(user_id)
        if user is None:
            raise _bad_request("PARTICIPANT_ID_INVALID")
        membership = chat.members.get(user_id, Membership("left"))
        return membership.to_api(user, chat.type)

    @_api_method("getChatAdministrators")
    async def _get_chat_administrators(self, p: _Params) -> list[JSONDict]:
        chat = self._readable_chat(p)
        if chat.type == "private":
            raise _bad_request("there are no administrators in the private chat")
        result = []
        for user_id, membership in chat.members.items():
            user = self._user_dict(user_id)
            if membership.is_admin and user is not None:
                result.append(membership.to_api(user, chat.type))
        result.sort(key=lambda m: m["status"] != "creator")
        return result

    # ------------------------------------------------------------------ methods: files
