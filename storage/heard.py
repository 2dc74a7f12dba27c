"""What a cycle heard: counts per group and step, vote tallies, and quotable replies.

Quotes come only from people whose consent in that group includes ``quote``; nothing here
returns who said what. Which reply each drafted statement quotes is kept (``heard_quotes``,
ids only), so a person who withdraws can be taken out of every draft. Residents who took part
on their own (the cycle's direct group) are not a group: their sessions and replies are left
out of the counts by group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, and_, case, distinct, func, insert, select

from bot.content.scopes import Scope
from bot.content.version import Version
from bot.core.direct import DIRECT
from bot.core.ids import GroupRef, PersonRef
from storage._content import read_versions
from storage._keys import person_id
from storage._scopes import agreed_to
from storage.db import for_writes, scanning
from storage.keystore import keys_of
from storage.records import decode_options
from storage.sealed import open_reply
from storage.tables import (
    consents,
    direct_progress,
    groups,
    heard_quotes,
    responses,
    sessions,
    votes,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Rows a stream reads at a time (one step of the driver for a page, not for each row).
PAGE = 2000


@dataclass(frozen=True, slots=True)
class StepCount:
    """Replies to one step in one group: how many, from how many people."""

    group_id: int
    group_title: str | None
    script_id: str | None
    step_id: str
    replies: int
    people: int
    # The group on its platform, so a public output can link these counts to its own.
    group: GroupRef


@dataclass(frozen=True, slots=True)
class Tally:
    """How many people chose one option of a choice step, across the cycle."""

    script_id: str | None
    step_id: str
    option: int
    votes: int
    # The answer and its question as people saw them (None: no content version was kept).
    label: str | None = None
    question: str | None = None


# A tally's option: (script id, step id, the answer's label or, without one, its number).
TallyKey = tuple[str | None, str, str | int]


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
class Quoting:
    """Which quotable replies ``heard`` returns: the first ``most`` that ``keep`` accepts.

    The replies are read a page at a time and opened one by one, so asking for a dozen
    quotes of a cycle of a million replies holds a dozen, and ``NO_QUOTES`` reads none.
    """

    keep: Callable[[Quote], bool] = field(default=lambda _: True)
    most: int | None = None


EVERY_QUOTE = Quoting()
# The counts alone: the disclosure decision registers counts, never quotes.
NO_QUOTES = Quoting(most=0)


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


async def heard(engine: AsyncEngine, cycle_id: str, quoting: Quoting = EVERY_QUOTE) -> Heard:
    """Summarise a cycle's stored replies and votes, and its quotable replies, oldest first.

    ``quoting`` says which quotable replies to return (every one unless it says otherwise).
    """
    in_cycle = sessions.c.cycle_id == cycle_id
    in_groups = groups.c.platform != DIRECT
    async with scanning(engine) as conn:
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
                groups.c.platform,
                groups.c.chat_id,
            )
            .join(sessions, sessions.c.id == responses.c.session_id)
            .join(groups, groups.c.id == responses.c.group_id)
            .where(in_cycle, in_groups)
            .group_by(
                responses.c.group_id,
                groups.c.title,
                groups.c.platform,
                groups.c.chat_id,
                sessions.c.script_id,
                responses.c.step_id,
            )
            .order_by(responses.c.group_id, sessions.c.script_id, func.min(responses.c.id))
        )
        counts = tuple(
            StepCount(g, title, script, step, replies, people, GroupRef(platform, chat))
            for g, title, script, step, replies, people, platform, chat in count_rows
        )
        # A resident alone answered on their own version; everyone else on their session's.
        answered = case(
            (
                groups.c.platform == DIRECT,
                func.coalesce(direct_progress.c.content_version, sessions.c.content_version),
            ),
            else_=sessions.c.content_version,
        )
        votes_query = (
            select(sessions.c.script_id, answered, votes.c.step_id, votes.c.options)
            .join(sessions, sessions.c.id == votes.c.session_id)
            .join(groups, groups.c.id == sessions.c.group_id)
            .outerjoin(
                direct_progress,
                and_(
                    direct_progress.c.participant_id == votes.c.participant_id,
                    direct_progress.c.cycle_id == sessions.c.cycle_id,
                ),
            )
            .where(in_cycle)
        )
        # The versions first, then the votes streamed: a large cycle's votes are never held.
        versions = await conn.execute(votes_query.with_only_columns(answered).distinct())
        kept = await read_versions(conn, {v for (v,) in versions if v})
        tallied: dict[TallyKey, Tally] = {}
        votes_for: Counter[TallyKey] = Counter()
        people: dict[tuple[str | None, str], int] = {}
        vote_pages = await conn.stream(
            votes_query.order_by(votes.c.id).execution_options(yield_per=PAGE)
        )
        async for page in vote_pages.partitions():
            _tally(page, kept, tallied, votes_for, people)
        quotes = await _quotes(conn, cycle_id, quoting)
    tallies = tuple(
        sorted((replace(t, votes=votes_for[k]) for k, t in tallied.items()), key=_order)
    )
    return Heard(totals[0], totals[1], counts, tallies, quotes, people)


def _tally(
    page: Sequence[Row[Any, Any, Any, Any]],
    kept: Mapping[str, Version],
    tallied: dict[TallyKey, Tally],
    votes_for: Counter[TallyKey],
    people: dict[tuple[str | None, str], int],
) -> None:
    """Count a page of votes (script, answered version, step, options) into the tallies.

    ``tallied`` holds each option's tally with its labels (its votes not yet counted), and
    ``votes_for`` its votes.
    """
    for script_id, version, step_id, options in page:
        people[(script_id, step_id)] = people.get((script_id, step_id), 0) + 1
        found = kept.get(version or "")
        ballot = found.script.ballot(step_id) if found else None
        choices = ballot.choices() if ballot else ()
        for option in decode_options(options):
            label = choices[option - 1] if 0 < option <= len(choices) else None
            key = (script_id, step_id, label or option)
            if key not in tallied:
                question = ballot.text if ballot else None
                tallied[key] = Tally(script_id, step_id, option, 0, label, question)
            votes_for[key] += 1


async def _quotes(conn: AsyncConnection, cycle_id: str, quoting: Quoting) -> tuple[Quote, ...]:
    """The cycle's quotable replies that ``quoting`` asks for, read as a stream."""
    if quoting.most == 0:
        return ()
    pages = await conn.stream(
        select(
            sessions.c.script_id,
            responses.c.step_id,
            responses.c.text,
            responses.c.id,
            responses.c.participant_id,
            responses.c.platform,
            responses.c.chat_id,
            responses.c.message_id,
        )
        .join(sessions, sessions.c.id == responses.c.session_id)
        .join(
            consents,
            and_(
                consents.c.participant_id == responses.c.participant_id,
                consents.c.group_id == responses.c.group_id,
            ),
        )
        .where(
            sessions.c.cycle_id == cycle_id,
            agreed_to(Scope.QUOTE, consents.c.participant_id, consents.c.group_id),
            responses.c.kind == "text",
        )
        .order_by(responses.c.posted_at, responses.c.id)
        .execution_options(yield_per=PAGE)
    )
    keys = keys_of(conn)
    found: list[Quote] = []
    async for page in pages.partitions():
        for r in page:
            text = open_reply(keys, r.participant_id, (r.platform, r.chat_id, r.message_id), r.text)
            quote = Quote(r.script_id, r.step_id, text, r.id)
            if quote.text.strip() and quoting.keep(quote):
                found.append(quote)
                if len(found) == quoting.most:
                    await pages.close()
                    return tuple(found)
    return tuple(found)


def _order(tally: Tally) -> tuple[str, str, int]:
    return (tally.script_id or "", tally.step_id, tally.option)


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
    r = responses.c
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                heard_quotes.c.cycle_id,
                heard_quotes.c.number,
                r.text,
                r.participant_id,
                r.platform,
                r.chat_id,
                r.message_id,
            )
            .join(responses, r.id == heard_quotes.c.response_id)
            .where(r.participant_id == person_id(conn, person))
            .order_by(heard_quotes.c.cycle_id, heard_quotes.c.number)
        )
        keys = keys_of(conn)
        return [
            DraftedQuote(
                row.cycle_id,
                row.number,
                open_reply(
                    keys, row.participant_id, (row.platform, row.chat_id, row.message_id), row.text
                ),
            )
            for row in rows
        ]
