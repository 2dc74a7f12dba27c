"""Profile answers: writing them from captures, reading them back, and /status counts."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, delete, func, select, union

from bot.content.scopes import REQUIRED_SCOPE, Scope
from bot.core.captures import ProfileAnswered, ProfileDeleted
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ProfileAnswer, Turnout
from storage import sealed
from storage._keys import dialect_insert, group_id, person_id
from storage._scopes import agreed_to
from storage.keystore import KeyStore, keys_of
from storage.tables import consent_scopes, profile_answers, responses, votes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


async def save_answers(
    conn: AsyncConnection, answered: Sequence[ProfileAnswered], people: dict[PersonRef, int]
) -> None:
    """Store answers; a later answer to the same question replaces the earlier one."""
    keys = keys_of(conn)
    keys.ensure(people[a.person] for a in answered)
    keyed: dict[Hashable, dict[str, Any]] = {}
    for a in answered:
        participant = people[a.person]
        place = sealed.answer(participant, a.question_id)
        keyed[(participant, a.question_id)] = {
            "participant_id": participant,
            "question_id": a.question_id,
            "answer": sealed.seal_optional(keys, participant, a.answer, place),
            "answered_at": a.at,
        }
    stmt = dialect_insert(conn, profile_answers)
    stmt = stmt.on_conflict_do_update(
        index_elements=["participant_id", "question_id"],
        set_={"answer": stmt.excluded.answer, "answered_at": stmt.excluded.answered_at},
    )
    # One statement may not upsert a key twice (PostgreSQL refuses): the latest answer wins.
    await conn.execute(stmt, list(keyed.values()))


async def delete_answers(conn: AsyncConnection, deletion: ProfileDeleted) -> None:
    """Delete one answer or all of a person's, unless consent keeps them (see the capture)."""
    participant = person_id(conn, deletion.person)
    target = delete(profile_answers).where(profile_answers.c.participant_id == participant)
    if deletion.question_id is not None:
        target = target.where(profile_answers.c.question_id == deletion.question_id)
    if deletion.unless_consented:
        kept = agreed_to(Scope.PROFILE, participant)
        target = target.where(~kept)
    await conn.execute(target)


async def answers_of(conn: AsyncConnection, participant: int) -> tuple[ProfileAnswer, ...]:
    """A person's stored answers, in the order they were first given."""
    rows = await conn.execute(
        select(profile_answers)
        .where(profile_answers.c.participant_id == participant)
        .order_by(profile_answers.c.answered_at, profile_answers.c.question_id)
    )
    keys = keys_of(conn)
    return tuple(
        ProfileAnswer(
            r.question_id, open_answer(keys, participant, r.question_id, r.answer), r.answered_at
        )
        for r in rows
    )


def open_answer(
    keys: KeyStore, participant: int, question_id: str, answer: str | None
) -> str | None:
    """A stored profile answer, opened (None: the question was skipped)."""
    return sealed.open_optional(keys, participant, answer, sealed.answer(participant, question_id))


def _speakers(session_id: str, step_id: str | None, among: Select[Any]) -> Select[Any]:
    """People of ``among`` with a reply or an answer in a session (at one step, if given)."""

    def at(table: Any) -> list[ColumnElement[bool]]:
        where = [table.c.session_id == session_id]
        return where if step_id is None else [*where, table.c.step_id == step_id]

    both = union(
        select(responses.c.participant_id.label("pid")).where(*at(responses)),
        select(votes.c.participant_id.label("pid")).where(*at(votes)),
    ).subquery()
    return select(both.c.pid).where(both.c.pid.in_(among))


async def turnout(conn: AsyncConnection, session_id: str, step_id: str, group: GroupRef) -> Turnout:
    """Counts for /status: consented people in the group's chat, who spoke at the step, who not."""
    consented = select(consent_scopes.c.participant_id).where(
        consent_scopes.c.group_id == group_id(group), consent_scopes.c.scope == REQUIRED_SCOPE.value
    )

    async def count(query: Select[Any]) -> int:
        counted = select(func.count()).select_from(query.subquery())
        return int((await conn.execute(counted)).scalar_one())

    everyone = await count(consented)
    replied = await count(_speakers(session_id, step_id, consented))
    spoken = await count(_speakers(session_id, None, consented))
    return Turnout(consented=everyone, replied=replied, silent=everyone - spoken)
