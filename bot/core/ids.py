"""Small typed identifiers for people and groups on a platform."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, eq=False)
class PersonRef:
    """A person as a platform knows them."""

    platform: str
    user_id: str

    # Equality as a dataclass makes it, without building tuples to compare: a person is a
    # dictionary key many times over for every event. The hash is the id's alone (kept by the
    # string, so no tuple is built and hashed): equal refs hash alike, and the same id on two
    # platforms only meets equality, which tells them apart.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        same: PersonRef = other
        return self.user_id == same.user_id and self.platform == same.platform

    def __hash__(self) -> int:
        return hash(self.user_id)


# A topic (thread) inside a chat is the chat id, this separator and the topic id: a session
# started in a topic runs there alone, while consent and roles belong to the whole chat.
TOPIC_SEPARATOR = "/"


@dataclass(frozen=True, slots=True, eq=False)
class GroupRef:
    """A group chat (or a topic inside one, ``chat/topic``) as a platform knows it."""

    platform: str
    chat_id: str

    # As PersonRef's: a group is a dictionary key many times over for every event.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        same: GroupRef = other
        return self.chat_id == same.chat_id and self.platform == same.platform

    def __hash__(self) -> int:
        return hash(self.chat_id)

    @property
    def whole(self) -> GroupRef:
        """The whole chat this group or topic belongs to (itself when it is not a topic)."""
        if TOPIC_SEPARATOR not in self.chat_id:  # most chats: no topic to split off
            return self
        chat, _, _ = self.chat_id.partition(TOPIC_SEPARATOR)
        return GroupRef(self.platform, chat)


@dataclass(frozen=True, slots=True)
class Origin:
    """What an action answers: the person who acted, where, and the platform's handle for it.

    ``group`` is where the person was (None in a private chat); ``token`` is the platform's
    opaque id for answering the event itself (a Telegram callback query id), when it has one.
    """

    person: PersonRef
    group: GroupRef | None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A platform message, for handling it once: its chat and its id there.

    ``chat_id`` is the group's chat id, or ``private:`` and the sender's pseudonym for a
    message written to the bot privately (platform user ids stay in the identity table).
    """

    platform: str
    chat_id: str
    message_id: str


def invitation_key(pseudonym: str, group: GroupRef) -> str:
    """What remembers that a person without consent was invited to a group's chat.

    A keyed hash of the two: ``pseudonym`` is the person's keyed pseudonym, so without the
    deployment's key the hash names neither the person nor the group, and cannot be rebuilt.
    """
    whole = group.whole
    chat = f"{whole.platform}\x1f{whole.chat_id}".encode()
    return hmac.new(pseudonym.encode(), chat, hashlib.sha256).hexdigest()
