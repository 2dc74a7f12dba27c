"""Telegram updates as the core's events: messages, commands, edits and button presses.

Only translation happens here. Who may do what is the core's business; this module only
says what happened, in the core's words, or that an update means nothing to the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from telegram import CallbackQuery, Chat, Message, MessageEntity, User
from telegram.constants import ChatType, MessageEntityType

from bot.core import direct
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageEdited,
    MessagePosted,
    VoteCast,
)
from bot.core.ids import GroupRef
from bot.platforms.telegram.codec import (
    ButtonData,
    VoteData,
    decode,
    group_from_token,
    group_ref,
    person_ref,
)

log = logging.getLogger(__name__)

# Checked in this order: an animation is also a document, a venue also a location.
MEDIA_ATTRIBUTES = (
    "animation",
    "sticker",
    "photo",
    "video_note",
    "video",
    "voice",
    "audio",
    "document",
    "poll",
    "venue",
    "location",
    "contact",
    "dice",
)
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the adapter must answer itself: the update could not become an event."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass
class Directory:
    """People the bot has seen: usernames to ids (for /facilitator add @name), first names."""

    ids: dict[str, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def see(self, user: User | None) -> None:
        """Remember a user from an update."""
        if user is None or user.is_bot:
            return
        self.names[user.id] = user.first_name
        if user.username:
            self.ids[user.username.lower()] = user.id


def group_of(message: Message) -> GroupRef | None:
    """The group (or forum topic) a message is in; None in private chats and channels."""
    if message.chat.type not in GROUP_TYPES:
        return None
    thread = message.message_thread_id if message.is_topic_message else None
    return group_ref(message.chat.id, thread)


def media_kind(message: Message) -> str | None:
    """The kind of a non-text message ("photo", "sticker", ...), or None."""
    return next((name for name in MEDIA_ATTRIBUTES if getattr(message, name, None)), None)


class UpdateReader:
    """Turns messages and button presses into events."""

    def __init__(
        self,
        bot_username: str,
        media_kinds: frozenset[str],
        step_ids: Mapping[str, str],
        clock: Callable[[], datetime],
        people: Directory,
    ) -> None:
        """``step_ids`` maps step keys (from callback data) back to step ids."""
        self.bot_username = bot_username.lower()
        self.media_kinds = media_kinds
        self.step_ids = step_ids
        self.clock = clock
        self.people = people

    def message(self, message: Message) -> Event | Notice | None:
        """A new message as an event; None for what the bot ignores (service messages...)."""
        user = message.from_user
        if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
            if self._command(message) is not None:
                return Notice("telegram.anonymous")  # an anonymous admin cannot be told apart
        if not self._from_person(message, user):
            return None
        assert user is not None
        self.people.see(user)
        if message.reply_to_message is not None:
            self.people.see(message.reply_to_message.from_user)
        group = group_of(message)
        person = person_ref(user.id)
        text = message.text or ""
        command = self._command(message) if text.startswith("/") else None
        if command is not None:
            return self._command_event(message, group, *command)
        if message.text is not None:
            kind = "text"
        else:
            found = media_kind(message)
            if found is None or found not in self.media_kinds:
                log.debug("message ignored", extra={"kind": found or "service"})
                return None
            kind, text = found, message.caption or ""
        return MessagePosted(
            person,
            group,
            str(message.message_id),
            text,
            message.date,
            _reply_to(message),
            kind,
            locale=user.language_code,
        )

    def edit(self, message: Message) -> Event | None:
        """An edited message as an event (commands and text-less edits are ignored)."""
        user = message.from_user
        text = message.text if message.text is not None else message.caption
        if not self._from_person(message, user) or text is None or self._command(message):
            return None
        assert user is not None
        at = message.edit_date or message.date
        return MessageEdited(
            person_ref(user.id), group_of(message), str(message.message_id), text, at
        )

    def press(self, query: CallbackQuery) -> Event | Notice:
        """A pressed inline button as a vote or a button event, or a notice that it is stale."""
        data = decode(query.data)
        message = query.message
        self.people.see(query.from_user)
        if data is None or message is None:
            log.info("button press not understood", extra={"kind": "callback"})
            return Notice("telegram.stale_button")
        person = person_ref(query.from_user.id)
        chat: Chat = message.chat
        group: GroupRef | None = None
        if chat.type in GROUP_TYPES:
            thread = message.message_thread_id if isinstance(message, Message) else None
            topic = thread if isinstance(message, Message) and message.is_topic_message else None
            group = group_ref(chat.id, topic)
        if isinstance(data, VoteData):
            step_id = self.step_ids.get(data.step_key)
            if step_id is None or group is None:
                return Notice("telegram.stale_button")
            return VoteCast(
                person,
                group,
                step_id,
                (data.option,),
                self.clock(),
                data.toggle,
                query.id,
                query.id,
                locale=query.from_user.language_code,
            )
        assert isinstance(data, ButtonData)
        about = data.about if group is None else None
        return ButtonPressed(
            person,
            group,
            data.payload,
            self.clock(),
            about,
            query.id,
            query.id,
            locale=query.from_user.language_code,
        )

    def _from_person(self, message: Message, user: User | None) -> bool:
        if message.migrate_to_chat_id is not None:
            log.warning(
                "group became a supergroup: register the new one with /register or "
                "dialogue group add telegram:%s",
                message.migrate_to_chat_id,
                extra={"group": message.chat.id},
            )
            return False
        if user is None or user.is_bot or message.sender_chat is not None:
            # Channels, anonymous admins and bots cannot be told apart as people.
            log.debug("message without a person ignored", extra={"kind": "anonymous"})
            return False
        if message.chat.type not in (*GROUP_TYPES, ChatType.PRIVATE):
            log.info("message from an unsupported chat ignored", extra={"kind": message.chat.type})
            return False
        return True

    def _command(self, message: Message) -> tuple[str, tuple[str, ...]] | None:
        entities = message.entities or ()
        first = entities[0] if entities else None
        if first is None or first.type != MessageEntityType.BOT_COMMAND or first.offset != 0:
            return None
        text = message.text or ""
        name, _, target = text[1 : first.length].partition("@")
        if target and target.lower() != self.bot_username:
            return None  # addressed to another bot in the group
        return name.lower(), tuple(text[first.length :].split())

    def _command_event(
        self, message: Message, group: GroupRef | None, name: str, args: tuple[str, ...]
    ) -> Event | Notice:
        assert message.from_user is not None
        person = person_ref(message.from_user.id)
        about = None
        if group is None and name == "start":
            # The deep link's "Start" in a private chat: consent for the group it names, or a
            # cycle's self-paced dialogue (``dialogue invite`` makes both links).
            if not args:
                name = "help"
            elif (cycle := direct.cycle_of(args[0])) is not None:
                name, args = direct.COMMAND, (cycle,)
            else:
                name, about, args = "consent", group_from_token(args[0]), ()
        elif name == "register" and group is not None and message.chat.title:
            args = (message.chat.title,)  # the group's name, to name it to people
        elif name == "facilitator" and group is not None:
            resolved = self._facilitator_args(message, args)
            if isinstance(resolved, Notice):
                return resolved
            args = resolved
        return CommandIssued(
            person,
            group,
            name,
            args,
            message.date,
            str(message.message_id),
            about=about,
            reply_to=_reply_to(message),
            locale=message.from_user.language_code,
        )

    def _facilitator_args(
        self, message: Message, args: tuple[str, ...]
    ) -> tuple[str, ...] | Notice:
        """``add|remove``, a user id and their name, from a reply, a mention or an @username.

        The name is only for the group's notice (the core never stores it).
        """
        if not args or args[0].lower() not in ("add", "remove"):
            return args  # the core explains the usage
        action = args[0].lower()
        user = _mentioned(message)
        target, name = (user.id, user.first_name) if user is not None else (None, "")
        if target is None and len(args) == 1 and message.reply_to_message is not None:
            replied = message.reply_to_message.from_user
            if replied is not None and not replied.is_bot:
                target, name = replied.id, replied.first_name
        if target is None and len(args) == 2:
            who = args[1]
            target = int(who) if who.isdigit() else self.people.ids.get(who.lstrip("@").lower())
            if target is None:
                return Notice("telegram.unknown_user", {"who": who, "action": action})
            name = who if not who.isdigit() else ""
        if target is None:
            return args
        return (action, str(target), name) if name else (action, str(target))


def _mentioned(message: Message) -> User | None:
    """The user picked from the mention list (a text mention carries their id)."""
    for entity in message.entities or ():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            return entity.user
    return None


def _reply_to(message: Message) -> str | None:
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return None  # in a topic, every message "replies" to the topic's first message
    return str(replied.message_id)
