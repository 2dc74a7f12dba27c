"""The facts an event needs, and the actor the engine sees, decided from what was loaded.

The service loads facts and judges none: ``needs`` says which of the costly ones an event
calls for, given those loaded first (consent, the session, the private desk), and ``actor``
completes the :class:`~bot.core.context.Actor` loaded by the core's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.content.models import REQUIRED_SCOPE
from bot.core import profile
from bot.core.context import Actor
from bot.core.desk import Desk
from bot.core.direct import DIRECT
from bot.core.events import Event, VoteCast
from bot.core.ids import GroupRef, PersonRef
from bot.core.rehearsal import PLATFORM as REHEARSAL
from bot.core.state import SessionState, Status

# Groups that exist on no platform: cycles' direct groups and facilitators' rehearsals.
PSEUDO_PLATFORMS = frozenset({DIRECT, REHEARSAL})


@dataclass(frozen=True, slots=True)
class Needs:
    """Which facts beyond the first ones an event needs loaded."""

    # The chat to ask whether the person was invited to.
    invited: GroupRef | None = None
    # The session and step of which to load the person's current answer (a toggled vote).
    current_vote: tuple[str, str] | None = None
    # The person's stored profile answers.
    profile: bool = False


# No fact beyond the first ones (most events): one shared answer.
NOTHING = Needs()


def needs(
    event: Event, person: PersonRef, state: SessionState | None, scopes: frozenset[str], desk: Desk
) -> Needs:
    """The facts ``event`` needs, knowing the person's consent, the session and their desk."""
    if state is None:
        return Needs(profile=True) if profile.wanted(event, desk) else NOTHING
    invited = None
    # Only someone without consent is invited, in a running session of a platform's chat.
    if (
        state.status is Status.RUNNING
        and REQUIRED_SCOPE not in scopes
        and person.user_id
        and state.group.platform not in PSEUDO_PLATFORMS
    ):
        invited = state.group
    vote = None
    # A toggled option adds to or takes from the answer already given, once consented.
    if isinstance(event, VoteCast) and event.toggle and REQUIRED_SCOPE in scopes:
        vote = (state.session_id, event.step_id) if state.session_id is not None else None
    wanted = profile.wanted(event, desk)
    if invited is None and vote is None and not wanted:
        return NOTHING  # nearly every reply: one shared answer, not one made each time
    return Needs(invited, vote, wanted)


def actor(loaded: Actor) -> Actor:
    """The person as the engine sees them, from the actor as loaded (facilitating in view)."""
    # In a private chat with no group in view, whoever facilitates anywhere does.
    if loaded.group is None and loaded.desk.facilitates and not loaded.facilitator:
        return replace(loaded, facilitator=True)
    return loaded
