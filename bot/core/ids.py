"""Small typed identifiers for people and groups on a platform."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person as a platform knows them."""

    platform: str
    user_id: str


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A group chat (or a topic inside one) as a platform knows it."""

    platform: str
    chat_id: str
