"""Making what platforms send safe to store: no NUL, no lone surrogates, a bounded length.

PostgreSQL refuses NUL characters in text, and neither database driver can encode a lone
UTF-16 surrogate (which JSON from a chat platform can carry); either would fail a whole batch of
captures. Everything else (right-to-left marks, zero-width joiners, emoji sequences) is kept as
sent: it is what the person wrote.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

from bot.core.events import Event, MessageEdited, MessagePosted
from bot.core.ids import GroupRef, PersonRef

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"

E = TypeVar("E", bound=Event)


def clean(text: str) -> str:
    """The text without NUL characters, each lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text.replace("\x00", "")) if _dirty(text) else text


def _dirty(text: str) -> bool:
    # Most text is clean, and these checks run in C: a cleaned copy is made only when needed.
    return "\x00" in text or (not text.isascii() and _SURROGATE.search(text) is not None)


def _clean_value(value: object) -> object:
    """The value cleaned; the very same object when it was clean."""
    if isinstance(value, str):
        return clean(value) if _dirty(value) else value
    if isinstance(value, PersonRef):
        if _dirty(value.platform) or _dirty(value.user_id):
            return PersonRef(clean(value.platform), clean(value.user_id))
        return value
    if isinstance(value, GroupRef):
        if _dirty(value.platform) or _dirty(value.chat_id):
            return GroupRef(clean(value.platform), clean(value.chat_id))
        return value
    if isinstance(value, tuple):
        items = tuple(_clean_value(item) for item in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


# Per event class: its field names, and what reads all their values in one call.
_FIELDS: dict[type, tuple[tuple[str, ...], attrgetter[Any]]] = {}
# Events whose words may be cut (made once: ``A | B`` in a call makes a union each time).
_WORDED = MessagePosted | MessageEdited
# Classes of event fields that can hold no text (exactly these: a subclass is cleaned as usual).
_TEXTLESS = frozenset({type(None), bool, int, float, datetime})


def _fields(event: Event) -> tuple[tuple[str, ...], attrgetter[Any]]:
    kind = type(event)
    found = _FIELDS.get(kind)
    if found is None:
        names = tuple(spec.name for spec in fields(event))
        found = _FIELDS[kind] = (names, attrgetter(*names))  # two names at least: a tuple
    return found


def clean_event(event: E) -> E:
    """The event with every text and id cleaned; the same object when nothing needed it."""
    names, read = _fields(event)
    values = read(event)
    if _all_clean(values):  # nearly every event: one check of all its text at once
        return event
    changes: dict[str, Any] = {}
    for name, value in zip(names, values, strict=True):
        if (cleaned := _clean_value(value)) is not value:
            changes[name] = cleaned
    return replace(event, **changes) if changes else event


def _all_clean(values: tuple[object, ...]) -> bool:
    """Whether these field values hold text (strings and ids) only, none of it dirty.

    The text is checked joined, in C: it is dirty exactly when one of its pieces is.
    """
    texts: list[str] = []
    for value in values:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, PersonRef):
            texts += value.platform, value.user_id
        elif isinstance(value, GroupRef):
            texts += value.platform, value.chat_id
        elif value.__class__ not in _TEXTLESS:
            return False  # a tuple, say: value by value
    return not _dirty("".join(texts))


def says_nothing(message: MessagePosted) -> bool:
    """Whether a text message holds only spaces, control and format characters, or a bare "/".

    Such a message is no reply (a sticker or a photo is: its kind says what it was).
    """
    text = message.text
    if message.kind != "text":
        return False
    if text.isprintable():  # no control, format or separator character but the plain space
        return text.strip() in ("", "/")
    return "".join(c for c in text if c.isprintable() and not c.isspace()) in ("", "/")


def shorten(event: E, max_chars: int) -> tuple[E, int | None]:
    """A message or edit cut to ``max_chars`` characters, with its original length if cut."""
    if not isinstance(event, _WORDED) or len(event.text) <= max_chars:
        return event, None
    return replace(event, text=event.text[:max_chars]), len(event.text)


def gist(text: str, limit: int = 90) -> str:
    """A question's words, as a person recognises it in a list.

    Its first paragraph, cut at a word break to about ``limit`` characters.
    """
    first = text.strip().split("\n\n", 1)[0].replace("\n", " ").strip()
    if len(first) <= limit:
        return first
    cut = first.rfind(" ", 0, limit)
    return first[: cut if cut > 0 else limit].rstrip(" ,;:") + "…"
