"""What a cycle heard: counts per group and step, vote tallies, and quotable replies.

Quotes come only from people whose consent in that group includes ``quote``; nothing here
returns who said what. Which reply each drafted statement quotes is kept (``heard_quotes``,
ids only), so a person who withdraws can be taken out of every draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, distinct, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.ids import PersonRef
from storage._keys import person_id
from storage.db import for_writes
from storage.records import decode_options
from storage.tables import consents, groups, heard_quotes, responses, sessions, votes


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
    response_id: int


@dataclass(frozen=True, slots=True)
class DraftedQuote:
    """Statement ``number`` of a cycle's draft, and the reply it quoted."""

    cycle_id: str
    number: int
    text: str


@dataclass(frozen=True, slots=True)
class Heard:
    """Everything a "what we heard" card is drafted from."""

    sessions: int
    groups: int
    counts: tuple[StepCount, ...]
    tallies: tuple[Tally, ...]
    quotes: tuple[Quote, ...]


async def heard(engine: AsyncEngine, cycle_id: str, max_quotes: int) -> Heard:
    """Summarise a cycle's stored replies and votes; at most ``max_quotes`` quotes, oldest first."""
    in_cycle = sessions.c.cycle_id == cycle_id
    async with engine.connect() as conn:
        totals = (
            await conn.execute(
                select(func.count(), func.count(distinct(sessions.c.group_id))).where(in_cycle)
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
            .where(in_cycle)
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
        for script_id, step_id, options in vote_rows:
            for option in decode_options(options):
                key = (script_id, step_id, option)
                tallied[key] = tallied.get(key, 0) + 1
        quote_rows = await conn.execute(
            select(sessions.c.script_id, responses.c.step_id, responses.c.text, responses.c.id)
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
            .limit(max_quotes)
        )
        quotes = tuple(Quote(*row) for row in quote_rows if row.text.strip())
    tallies = tuple(Tally(*key, count) for key, count in sorted(tallied.items(), key=_order))
    return Heard(totals[0], totals[1], counts, tallies, quotes)


async def record_quotes(engine: AsyncEngine, cycle_id: str, quotes: tuple[Quote, ...]) -> None:
    """Remember which reply each statement of a cycle's new draft quotes (numbered from 1)."""
    if not quotes:
        return
    rows = [
        {"cycle_id": cycle_id, "number": n, "response_id": q.response_id}
        for n, q in enumerate(quotes, start=1)
    ]
    async with for_writes(engine).begin() as conn:
        await conn.execute(insert(heard_quotes), rows)


async def quoted(engine: AsyncEngine, person: PersonRef) -> list[DraftedQuote]:
    """Every drafted statement that quotes one of the person's replies."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(heard_quotes.c.cycle_id, heard_quotes.c.number, responses.c.text)
            .join(responses, responses.c.id == heard_quotes.c.response_id)
            .where(responses.c.participant_id == person_id(person))
            .order_by(heard_quotes.c.cycle_id, heard_quotes.c.number)
        )
        return [DraftedQuote(*row) for row in rows]


def _order(item: tuple[tuple[str | None, str, int], int]) -> tuple[str, str, int]:
    (script_id, step_id, option), _ = item
    return (script_id or "", step_id, option)
