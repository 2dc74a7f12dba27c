"""Reads for the reach report: who took part in a cycle, their profile answers, who spoke how much.

Nothing here names a person: people are rows of answers, and sessions hold counts of replies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, literal, select, union_all

from bot.content.scopes import Scope
from bot.core.ids import GroupRef
from storage._profile import open_answer
from storage.db import scanning
from storage.heard import PAGE
from storage.keystore import keys_of
from storage.tables import consent_scopes, groups, profile_answers, responses, sessions, votes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

# A person's answers by question id (None: skipped), or None without the profile consent.
Answers = Mapping[str, str | None] | None


@dataclass(frozen=True, slots=True)
class SessionReplies:
    """How many replies each person who took part in a session wrote (0: answered only)."""

    session_id: str
    group: GroupRef
    started_at: datetime | None
    replies: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CycleReach:
    """Everyone who replied or answered in a cycle's sessions, and each session's replies."""

    people: tuple[Answers, ...]
    sessions: tuple[SessionReplies, ...]


async def cycle_reach(engine: AsyncEngine, cycle_id: str | None) -> CycleReach:
    """The people and sessions of one cycle (None: of every session), for the reach report.

    A person's answers count only while they hold the profile consent in some group; answers
    are erased when the last such consent goes, so this is a second line of defence.
    """
    chosen = [] if cycle_id is None else [sessions.c.cycle_id == cycle_id]
    in_cycle = select(sessions.c.id).where(*chosen)
    # Who spoke in which session and how many replies each wrote (0: voted only), counted by
    # the database and streamed: a big cycle has a pair for nearly every reply.
    spoke = union_all(
        select(responses.c.session_id, responses.c.participant_id, func.count().label("replies"))
        .where(responses.c.session_id.in_(in_cycle))
        .group_by(responses.c.session_id, responses.c.participant_id),
        select(votes.c.session_id, votes.c.participant_id, literal(0).label("replies")).where(
            votes.c.session_id.in_(in_cycle)
        ),
    ).subquery()
    per_session: defaultdict[str, list[int]] = defaultdict(list)
    everyone: set[int] = set()
    async with scanning(engine) as conn:
        session_rows = (
            await conn.execute(
                select(sessions.c.id, sessions.c.started_at, groups.c.platform, groups.c.chat_id)
                .join(groups, groups.c.id == sessions.c.group_id)
                .where(*chosen)
                .order_by(sessions.c.started_at, sessions.c.id)
            )
        ).all()
        counted = await conn.stream(
            select(spoke.c.session_id, spoke.c.participant_id, func.sum(spoke.c.replies))
            .group_by(spoke.c.session_id, spoke.c.participant_id)
            .execution_options(yield_per=PAGE)
        )
        async for page in counted.partitions():
            for session_id, pid, replies in page:
                per_session[session_id].append(int(replies))
                everyone.add(pid)
        people = select(spoke.c.participant_id)
        profiled = set(
            (
                await conn.execute(
                    select(consent_scopes.c.participant_id)
                    .where(
                        consent_scopes.c.participant_id.in_(people),
                        consent_scopes.c.scope == Scope.PROFILE.value,
                    )
                    .distinct()
                )
            ).scalars()
        )
        answer_rows = (
            await conn.execute(
                select(
                    profile_answers.c.participant_id,
                    profile_answers.c.question_id,
                    profile_answers.c.answer,
                ).where(profile_answers.c.participant_id.in_(people))
            )
        ).all()
    answers: defaultdict[int, dict[str, str | None]] = defaultdict(dict)
    keys = keys_of(engine)
    for pid, question_id, answer in answer_rows:
        answers[pid][question_id] = open_answer(keys, pid, question_id, answer)
    return CycleReach(
        people=tuple(dict(answers[pid]) if pid in profiled else None for pid in sorted(everyone)),
        sessions=tuple(
            SessionReplies(
                session_id=row.id,
                group=GroupRef(row.platform, row.chat_id),
                started_at=row.started_at,
                replies=tuple(sorted(per_session[row.id], reverse=True)),
            )
            for row in session_rows
        ),
    )
