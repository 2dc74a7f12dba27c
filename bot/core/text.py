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


_NAMES: dict[type, tuple[str, ...]] = {}
# Events whose words may be cut (made once: ``A | B`` in a call makes a union each time).
_WORDED = MessagePosted | MessageEdited
# Classes of event fields that can hold no text (exactly these: a subclass is cleaned as usual).
_TEXTLESS = frozenset({type(None), bool, int, float, datetime})


def _names(event: Event) -> tuple[str, ...]:
    kind = type(event)
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(spec.name for spec in fields(event))
    return names


def clean_event(event: E) -> E:
    """The event with every text and id cleaned; the same object when nothing needed it."""
    changes: dict[str, Any] = {}
    for name in _names(event):
        value = getattr(event, name)
        kind = value.__class__
        # Plain strings and values holding no text are told apart here rather than through
        # _clean_value: this runs per event.
        if kind is str:
            if _dirty(value):
                changes[name] = clean(value)
        elif kind not in _TEXTLESS and (cleaned := _clean_value(value)) is not value:
            changes[name] = cleaned
    return replace(event, **changes) if changes else event


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
