"""Self-paced progress and session reflections written from captures, and reads for the service.

The reads: a person's desk, a session's counts (what it heard), a person's own places and
reflections (subject access).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, desc, exists, func, or_, select, union

from bot.core.captures import ReflectionSaved, SoloSaved
from bot.core.desk import REFLECTION_QUESTIONS, Desk, Reflection, SoloState
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import Place, SessionHeard
from storage import sealed
from storage._keys import dialect_insert, ensure_people, person_id
from storage.keystore import keys_of
from storage.records import decode_options
from storage.tables import (
    direct_progress,
    facilitators,
    groups,
    responses,
    session_reflections,
    sessions,
    votes,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


async def save_progress(conn: AsyncConnection, saved: Sequence[SoloSaved]) -> None:
    """Store residents' places; the latest of a person in a cycle replaces the earlier one."""
    people = await ensure_people(conn, (s.state.person for s in saved))
    rows: dict[Hashable, dict[str, Any]] = {}
    for capture in saved:
        state = capture.state
        participant = people[state.person]
        rows[(participant, state.cycle_id)] = {
            "participant_id": participant,
            "cycle_id": state.cycle_id,
            "script_id": state.script_id,
            "script_version": state.script_version,
            "content_version": state.content_version,
            "step_index": state.step_index,
            "status": state.status,
            "answered": state.answered,
            "remind": state.remind,
            "updated_at": state.updated_at,
            "stopped_at": state.stopped_at,
            "reminded_at": state.reminded_at,
            "profile_question": state.question,
        }
    stmt = dialect_insert(conn, direct_progress)
    changing = [c for c in next(iter(rows.values())) if c not in ("participant_id", "cycle_id")]
    stmt = stmt.on_conflict_do_update(
        index_elements=["participant_id", "cycle_id"],
        set_={name: stmt.excluded[name] for name in changing},
    )
    await conn.execute(stmt, list(rows.values()))


async def save_reflections(conn: AsyncConnection, saved: Sequence[ReflectionSaved]) -> None:
    """Store facilitators' reflections, one per session (the latest answers win)."""
    people = await ensure_people(conn, (s.person for s in saved))
    keys = keys_of(conn)
    keys.ensure(people.values())
    rows: dict[Hashable, dict[str, Any]] = {}
    for capture in saved:
        reflection = capture.reflection
        pid = people[capture.person]
        rows[reflection.session_id] = {
            "session_id": reflection.session_id,
            "participant_id": pid,
            **{
                column: sealed.seal_optional(
                    keys, pid, answer, sealed.reflection(column, pid, reflection.session_id)
                )
                for column, answer in zip(REFLECTION_QUESTIONS, reflection.answers, strict=True)
            },
            "asked_at": reflection.asked_at,
            "updated_at": capture.at,
        }
    stmt = dialect_insert(conn, session_reflections)
    stmt = stmt.on_conflict_do_update(
        index_elements=["session_id"],
        set_={name: stmt.excluded[name] for name in (*REFLECTION_QUESTIONS, "updated_at")},
    )
    await conn.execute(stmt, list(rows.values()))


def _solo(person: PersonRef, row: Row[Any]) -> SoloState:
    return SoloState(
        person=person,
        cycle_id=row.cycle_id,
        script_id=row.script_id,
        script_version=row.script_version,
        step_index=row.step_index,
        status=row.status,
        updated_at=row.updated_at,
        answered=row.answered,
        stopped_at=row.stopped_at,
        remind=row.remind,
        reminded_at=row.reminded_at,
        content_version=row.content_version,
        question=row.profile_question,
    )


async def desk(conn: AsyncConnection, person: PersonRef) -> Desk:
    """A person's latest self-paced dialogue, open reflection, and whether they facilitate."""
    pid = (await conn.execute(select(person_id(conn, person)))).scalar()
    if pid is None:
        return Desk()
    progress = (
        await conn.execute(
            select(direct_progress)
            .where(direct_progress.c.participant_id == pid)
            .order_by(desc(direct_progress.c.updated_at), desc(direct_progress.c.id))
            .limit(1)
        )
    ).first()
    waiting = or_(*(session_reflections.c[q].is_(None) for q in REFLECTION_QUESTIONS))
    open_reflection = (
        await conn.execute(
            select(session_reflections, groups.c.platform, groups.c.chat_id)
            .join(sessions, sessions.c.id == session_reflections.c.session_id)
            .join(groups, groups.c.id == sessions.c.group_id)
            .where(session_reflections.c.participant_id == pid, waiting)
            .order_by(desc(session_reflections.c.asked_at))
            .limit(1)
        )
    ).first()
    reflection = None
    if open_reflection is not None:
        reflection = Reflection(
            open_reflection.session_id,
            GroupRef(open_reflection.platform, open_reflection.chat_id),
            open_reflection.asked_at,
            sealed.open_reflections(
                keys_of(conn),
                pid,
                open_reflection.session_id,
                [open_reflection._mapping[q] for q in REFLECTION_QUESTIONS],
            ),
        )
    facilitates = await conn.scalar(select(exists().where(facilitators.c.participant_id == pid)))
    return Desk(
        solo=_solo(person, progress) if progress is not None else None,
        reflection=reflection,
        facilitates=bool(facilitates),
    )


async def heard(conn: AsyncConnection, session_id: str) -> SessionHeard:
    """A session's replies by step, everyone's answers by ballot, and how many took part."""
    replies = {
        step: int(count)
        for step, count in await conn.execute(
            select(responses.c.step_id, func.count())
            .where(responses.c.session_id == session_id)
            .group_by(responses.c.step_id)
        )
    }
    answers: dict[str, list[tuple[int, ...]]] = {}
    for step, options in await conn.execute(
        select(votes.c.step_id, votes.c.options)
        .where(votes.c.session_id == session_id)
        .order_by(votes.c.id)
    ):
        answers.setdefault(step, []).append(decode_options(options))
    spoke = union(
        select(responses.c.participant_id).where(responses.c.session_id == session_id),
        select(votes.c.participant_id).where(votes.c.session_id == session_id),
    ).subquery()
    people = await conn.scalar(select(func.count()).select_from(spoke))
    return SessionHeard(int(people or 0), replies, answers)


async def of_person(
    conn: AsyncConnection, participant: int
) -> tuple[tuple[Place, ...], tuple[tuple[str | None, ...], ...]]:
    """A person's places in self-paced dialogues, and their session reflections (/mydata)."""
    places = await conn.execute(
        select(
            direct_progress.c.cycle_id,
            direct_progress.c.script_id,
            direct_progress.c.content_version,
            direct_progress.c.step_index,
            direct_progress.c.status,
        )
        .where(direct_progress.c.participant_id == participant)
        .order_by(direct_progress.c.id)
    )
    reflected = await conn.execute(
        select(
            session_reflections.c.session_id,
            *(session_reflections.c[q] for q in REFLECTION_QUESTIONS),
        )
        .where(session_reflections.c.participant_id == participant)
        .order_by(session_reflections.c.asked_at)
    )
    keys = keys_of(conn)
    return (
        tuple(Place(*row) for row in places),
        tuple(
            sealed.open_reflections(keys, participant, session_id, answers)
            for session_id, *answers in reflected
        ),
    )
