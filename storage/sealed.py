"""Which texts are sealed, and what binds each sealed value to its place.

A sealed value carries its column, its person and its row as associated data (see
storage.keystore), so it cannot be moved to another row, column or person and still be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.ids import MessageRef
from storage.keystore import KeyStore, context

REPLY = "responses.text"
EARLIER = "response_edits.previous_text"
PENDING = "pending_edits.text"
ANSWER = "profile_answers.answer"
REFLECTION_COLUMNS = ("went_well", "was_hard", "to_change")
IDENTITY = "identities.sealed_user_id"


def message_key(message: MessageRef) -> tuple[str, str, str]:
    """A message as (platform, chat id, message id), as replies are bound to it."""
    return message.platform, message.chat_id, message.message_id


def reply(participant: int, message: tuple[str, str, str]) -> bytes:
    """A reply's text, bound to its message (platform, chat id, message id).

    As ``context`` makes it, written out: this runs for every reply captured.
    """
    platform, chat_id, message_id = message
    return f"{REPLY}\x1f{participant}\x1f{platform}\x1f{chat_id}\x1f{message_id}".encode()


def earlier(participant: int, response_id: int) -> bytes:
    """An earlier text of a reply, bound to the reply."""
    return context(EARLIER, participant, response_id)


def pending(participant: int, message: tuple[str, str, str]) -> bytes:
    """An edit waiting for its message, bound to that message."""
    return context(PENDING, participant, *message)


def answer(participant: int, question_id: str) -> bytes:
    """A profile answer, bound to its question."""
    return context(ANSWER, participant, question_id)


def identity(participant: int, platform: str) -> bytes:
    """A person's platform user id, bound to their identity row."""
    return context(IDENTITY, participant, platform)


def reflection(column: str, participant: int, session_id: str) -> bytes:
    """One answer of a facilitator's reflection, bound to its session and question."""
    return context(f"session_reflections.{column}", participant, session_id)


def open_reply(keys: KeyStore, participant: int, message: tuple[str, str, str], text: str) -> str:
    """A stored reply's text; KeyGone if its person's key was destroyed."""
    return keys.open(participant, text, reply(participant, message))


def open_replies(
    keys: KeyStore,
    participants: Sequence[int],
    messages: Iterable[tuple[str, str, str]],
    texts: Sequence[str],
) -> list[str]:
    """Stored replies' texts, a page at a time (``KeyStore.open_all``); as ``open_reply``."""
    places = (reply(p, m) for p, m in zip(participants, messages, strict=True))
    return keys.open_all(participants, texts, places)


def open_earlier(keys: KeyStore, participant: int, response_id: int, text: str) -> str:
    """An earlier text of a stored reply; KeyGone if its person's key was destroyed."""
    return keys.open(participant, text, earlier(participant, response_id))


def seal_optional(keys: KeyStore, participant: int, text: str | None, place: bytes) -> str | None:
    """A text that may be missing (NULL: not answered), sealed when it is there."""
    return None if text is None else keys.seal(participant, text, place)


def open_optional(keys: KeyStore, participant: int, text: str | None, place: bytes) -> str | None:
    """A sealed text that may be missing, opened when it is there."""
    return None if text is None else keys.open(participant, text, place)


def open_reflections(
    keys: KeyStore, participant: int, session_id: str, answers: Sequence[str | None]
) -> tuple[str | None, ...]:
    """A stored reflection's answers, in REFLECTION_COLUMNS order, opened."""
    return tuple(
        open_optional(keys, participant, answer, reflection(column, participant, session_id))
        for column, answer in zip(REFLECTION_COLUMNS, answers, strict=True)
    )
