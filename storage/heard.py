"""What a cycle heard: counts per group and step, vote tallies, and quotable replies.

Quotes come only from people whose consent in that group includes ``quote``; nothing here
returns who said what. Residents who took part on their own (the cycle's direct group) are
not a group: their sessions and replies are left out of the counts by group.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.direct import DIRECT
from storage.records import decode_options
from storage.tables import consents, groups, responses, sessions, votes


@dataclass(frozen=True, slots=True)
class StepCount:
    """Replies to one step in one group: how many, from how many people."""

    group_id: int
    group_title: str | None
    script_id: str | None
    step_id: str
    replies: int
    people: int


@dataclass(frozen=True, slots=True)
class Tally:
    """How many people chose one option of a choice step, across the cycle."""

    script_id: str | None
    step_id: str
    option: int
    votes: int


@dataclass(frozen=True, slots=True)
class Quote:
    """A reply its author agreed may be quoted anonymously."""

    script_id: str | None
    step_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Heard:
    """Everything a "what we heard" card is drafted from."""

    sessions: int
    groups: int
    counts: tuple[StepCount, ...]
    tallies: tuple[Tally, ...]
    quotes: tuple[Quote, ...]
    # People who answered each choice step (script id, step id), across the cycle.
    answered: dict[tuple[str | None, str], int]


async def heard(engine: AsyncEngine, cycle_id: str) -> Heard:
    """Summarise a cycle's stored replies and votes; every quotable reply, oldest first."""
    in_cycle = sessions.c.cycle_id == cycle_id
    in_groups = groups.c.platform != DIRECT
    async with engine.connect() as conn:
        totals = (
            await conn.execute(
                select(func.count(), func.count(distinct(sessions.c.group_id)))
                .join(groups, groups.c.id == sessions.c.group_id)
                .where(in_cycle, in_groups)
            )
        ).one()
        count_rows = await conn.execute(
            select(
                responses.c.group_id,
                groups.c.title,
                sessions.c.script_id,
                responses.c.step_id,
                func.count().label("replies"),
                func.count(distinct(responses.c.participant_id)).label("people"),
            )
            .join(sessions, sessions.c.id == responses.c.session_id)
            .join(groups, groups.c.id == responses.c.group_id)
            .where(in_cycle, in_groups)
            .group_by(
                responses.c.group_id, groups.c.title, sessions.c.script_id, responses.c.step_id
            )
            .order_by(responses.c.group_id, sessions.c.script_id, func.min(responses.c.id))
        )
        counts = tuple(StepCount(*row) for row in count_rows)
        vote_rows = await conn.execute(
            select(sessions.c.script_id, votes.c.step_id, votes.c.options)
            .join(sessions, sessions.c.id == votes.c.session_id)
            .where(in_cycle)
            .order_by(votes.c.id)
        )
        tallied: dict[tuple[str | None, str, int], int] = {}
        answered: dict[tuple[str | None, str], int] = {}
        for script_id, step_id, options in vote_rows:
            answered[(script_id, step_id)] = answered.get((script_id, step_id), 0) + 1
            for option in decode_options(options):
                key = (script_id, step_id, option)
                tallied[key] = tallied.get(key, 0) + 1
        quote_rows = await conn.execute(
            select(sessions.c.script_id, responses.c.step_id, responses.c.text)
            .join(sessions, sessions.c.id == responses.c.session_id)
            .join(
                consents,
                and_(
                    consents.c.participant_id == responses.c.participant_id,
                    consents.c.group_id == responses.c.group_id,
                ),
            )
            .where(in_cycle, consents.c.quote.is_(True), responses.c.kind == "text")
            .order_by(responses.c.posted_at, responses.c.id)
        )
        quotes = tuple(Quote(*row) for row in quote_rows if row.text.strip())
    tallies = tuple(Tally(*key, count) for key, count in sorted(tallied.items(), key=_order))
    return Heard(totals[0], totals[1], counts, tallies, quotes, answered)


def _order(item: tuple[tuple[str | None, str, int], int]) -> tuple[str, str, int]:
    (script_id, step_id, option), _ = item
    return (script_id or "", step_id, option)
