"""What each session showed, and when: step visits and card exposures, for exports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import insert

from bot.core.captures import CardShown, SessionSaved
from bot.core.ids import GroupRef
from storage._keys import dialect_insert
from storage.tables import card_exposures, step_visits

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


async def record_step_visits(conn: AsyncConnection, saved: Sequence[SessionSaved]) -> None:
    """Log each step a saved session started; a save that did not start a step adds nothing."""
    rows = {
        (s.state.session_id, s.state.step_started_at, s.state.step_index): {
            "session_id": s.state.session_id,
            "step_index": s.state.step_index,
            "started_at": s.state.step_started_at,
        }
        for s in saved
        if s.state.session_id is not None and s.state.step_started_at is not None
    }
    if not rows:
        return
    # A pause or an end saves the session again with the same step start: the key makes it a
    # no-op, so one row stands for each time a step was put in front of the group.
    stmt = dialect_insert(conn, step_visits).on_conflict_do_nothing(
        index_elements=["session_id", "started_at", "step_index"]
    )
    await conn.execute(stmt, list(rows.values()))


async def record_cards(
    conn: AsyncConnection, shown: Sequence[CardShown], group_ids: Mapping[GroupRef, int]
) -> None:
    """Store the cards shown in sessions."""
    if not shown:
        return
    await conn.execute(
        insert(card_exposures),
        [
            {
                "session_id": c.session_id,
                "group_id": group_ids[c.group],
                "step_id": c.step_id,
                "card_id": c.card_id,
                "card_version": c.card_version,
                "shown_at": c.at,
            }
            for c in shown
        ],
    )
