"""Who has spoken so far, for a facilitator's /status: counts only, never names.

The engine asks for the counts with an effect (only storage knows them); the service fetches
them and says them with ``describe``. People who have not agreed to take part are in no count.
"""

from __future__ import annotations

from bot.content.models import Step
from bot.core.context import Actor, Context
from bot.core.effects import TurnoutRequested
from bot.core.records import Turnout
from bot.core.state import SessionState


def request(
    state: SessionState, current: Step | None, actor: Actor
) -> tuple[TurnoutRequested, ...]:
    """The request for the counts at the current step, when a session is under way."""
    if not state.live or state.session_id is None or current is None:
        return ()
    return (TurnoutRequested(actor.person, state.group, state.session_id, current.id),)


def describe(turnout: Turnout, ctx: Context) -> str:
    """The counts, as the facilitator reads them."""
    if turnout.consented == 0:
        return ctx.t("turnout.nobody")
    return ctx.t(
        "turnout.status",
        consented=turnout.consented,
        replied=turnout.replied,
        waiting=turnout.consented - turnout.replied,
        silent=turnout.silent,
    )
