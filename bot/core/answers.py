"""Which event an action answers: the core names it, so no adapter keeps track of it.

A reply to the person who acted, while their event is handled, carries the event's origin: the
platform answers the press or command with it (a pop-up, an ephemeral follow-up, an invitation
in the group the person wrote in) without remembering anything between the two.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.actions import Action, CheckAccess, SendPrivate
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageEdited,
    MessagePosted,
    VoteCast,
)
from bot.core.ids import Origin


def origin_of(event: Event) -> Origin | None:
    """Where a person's event came from and how to answer it; None when nothing is to tell.

    A private event without a platform handle is answered by a plain private message, and
    events no person made (timers, deletions) answer no one.
    """
    origin: Origin | None = None
    if isinstance(event, ButtonPressed | VoteCast | CommandIssued):
        origin = Origin(event.person, event.group, event.token)
    elif isinstance(event, MessagePosted | MessageEdited):
        origin = Origin(event.person, event.group)
    if origin is None or (origin.group is None and origin.token is None):
        return None
    return origin


def answering(origin: Origin | None, action: Action) -> Action:
    """The action, naming ``origin`` as what it answers when it goes to that person."""
    if origin is None or not isinstance(action, SendPrivate | CheckAccess):
        return action
    if action.person != origin.person or action.answers is not None:
        return action
    return replace(action, answers=origin)
