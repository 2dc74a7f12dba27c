"""Telegram's small encodings: chats and topics as groups, deep-link tokens, callback data.

Everything here survives a restart: a token or a button's data says all that is needed to
act on it, so a button pressed on yesterday's message still means what it meant.
"""

from __future__ import annotations

import base64
import hashlib
import re
import string
from dataclasses import dataclass

from bot.core.ids import TOPIC_SEPARATOR, GroupRef, PersonRef
from bot.platforms.telegram.platform import PLATFORM as DESCRIPTOR

PLATFORM = DESCRIPTOR.name  # the name the registry knows it by
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram keeps
DEEP_LINK_LIMIT = 64  # characters of a /start parameter, from [A-Za-z0-9_-]
_DIGITS = string.digits + string.ascii_letters
_TOKEN_MARK = "g"


def error_reason(message: str) -> str:
    """A Bot API error's message without the server's raw answer that PTB appends to it."""
    return re.sub(r"\. Parsing the server response .* failed$", "", message, flags=re.DOTALL)


def person_ref(user_id: int) -> PersonRef:
    """A Telegram user as the core knows them."""
    return PersonRef(PLATFORM, str(user_id))


def group_ref(chat_id: int, thread_id: int | None = None) -> GroupRef:
    """A group chat, or one forum topic in it (``chat/topic``)."""
    if thread_id is None:
        return GroupRef(PLATFORM, str(chat_id))
    return GroupRef(PLATFORM, f"{chat_id}{TOPIC_SEPARATOR}{thread_id}")


def chat_and_thread(group: GroupRef) -> tuple[int, int | None]:
    """The Bot API chat id and message_thread_id of a group (None outside topics)."""
    chat, _, thread = group.chat_id.partition(TOPIC_SEPARATOR)
    return int(chat), int(thread) if thread else None


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, len(_DIGITS))
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


def _from_base62(digits: str) -> int:
    if not digits or any(d not in _DIGITS for d in digits):
        raise ValueError(f"not base62: {digits!r}")
    number = 0
    for digit in digits:
        number = number * len(_DIGITS) + _DIGITS.index(digit)
    return number


def group_token(group: GroupRef) -> str:
    """A short token naming a group, fit for ``t.me/<bot>?start=<token>`` and callback data."""
    chat, thread = chat_and_thread(group)
    token = _TOKEN_MARK + ("-" if chat < 0 else "") + _base62(abs(chat))
    return token + (f"_{_base62(thread)}" if thread is not None else "")


def group_from_token(token: str) -> GroupRef | None:
    """The group a token names, or None if it is not one of ours."""
    if not token.startswith(_TOKEN_MARK) or len(token) > DEEP_LINK_LIMIT:
        return None
    body = token[len(_TOKEN_MARK) :]
    negative = body.startswith("-")
    chat_digits, topic, thread_digits = body.removeprefix("-").partition("_")
    try:
        chat = _from_base62(chat_digits)
        thread = _from_base62(thread_digits) if topic else None
    except ValueError:
        return None
    return group_ref(-chat if negative else chat, thread)


def step_key(step_id: str) -> str:
    """Eight characters standing for a step id (its id may be longer than a button allows)."""
    digest = hashlib.sha256(step_id.encode("utf-8")).digest()[:6]
    return base64.urlsafe_b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class VoteData:
    """A pressed choice button: which step (by key), which option, whether it toggles."""

    step_key: str
    option: int
    toggle: bool


@dataclass(frozen=True, slots=True)
class ButtonData:
    """A pressed core button: its payload, and the group a private message was about."""

    payload: str
    about: GroupRef | None


def vote_data(step_id: str, option: int, toggle: bool) -> str:
    """Callback data of a choice button (at most 64 bytes for any step id)."""
    return f"{'t' if toggle else 'v'}:{step_key(step_id)}:{option}"


def button_data(payload: str, about: GroupRef | None) -> str | None:
    """Callback data of a core button, or None if its payload cannot fit in 64 bytes."""
    data = f"b:{group_token(about) if about else ''}:{payload}"
    if len(data.encode("utf-8")) <= CALLBACK_LIMIT:
        return data
    # The payload matters more than the group, which the service can often tell anyway.
    data = f"b::{payload}"
    return data if len(data.encode("utf-8")) <= CALLBACK_LIMIT else None


def decode(data: str | None) -> VoteData | ButtonData | None:
    """What a button's callback data stands for; None for data we never made."""
    kind, _, rest = (data or "").partition(":")
    if kind in ("v", "t"):
        key, _, option = rest.partition(":")
        if len(key) == 8 and option.isdigit() and option.isascii():
            return VoteData(key, int(option), kind == "t")
        return None
    if kind == "b":
        token, _, payload = rest.partition(":")
        about = group_from_token(token) if token else None
        if payload and (about is not None or not token):
            return ButtonData(payload, about)
    return None
