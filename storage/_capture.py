"""Writing a batch of captures inside one transaction: the hot path of the bot."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, delete, insert, select

from bot.core.captures import (
    Capture,
    CardShown,
    ConsentRecorded,
    ContentUsed,
    LanguageChosen,
    ProfileAnswered,
    ProfileDeleted,
    ReflectionSaved,
    ResponseCaptured,
    ResponseDeleted,
    ResponseEdited,
    SessionSaved,
    SoloSaved,
    VoteCaptured,
)
from bot.core.ids import GroupRef, PersonRef
from storage._content import record_versions
from storage._direct import save_progress, save_reflections
from storage._edits import edit_response
from storage._erased import Marks, remember
from storage._exposure import record_cards, record_step_visits
from storage._keys import dialect_insert, ensure_groups, ensure_people, person_id
from storage._languages import save_languages
from storage._profile import delete_answers, save_answers
from storage._replies import Known, MessageKey, reply_row, store_replies
from storage._scopes import scope_rows
from storage.keystore import keys_of
from storage.records import encode_options
from storage.tables import consent_scopes, consents, response_edits, responses, sessions, votes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

C = TypeVar("C")
_Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Ids:
    people: dict[PersonRef, int]
    groups: dict[GroupRef, int]


async def apply(
    conn: AsyncConnection, captures: Sequence[Capture], marks: Marks, known: Known
) -> dict[MessageKey, bool]:
    """Write captures in order on ``conn``; runs of one kind become one multi-row statement.

    ``marks`` name erased messages (see storage._erased); ``known`` is a writer's memory of
    people and groups that exist (see storage._replies). Replies are written by
    ``storage._replies.store_replies``, like every reply; returns the messages of those stored,
    each with whether an edit is waiting for it.
    """
    ids = _Ids(
        people=await ensure_people(
            conn,
            (
                c.person
                for c in captures
                if isinstance(c, VoteCaptured | ConsentRecorded | ProfileAnswered)
            ),
        ),
        groups=await ensure_groups(
            conn,
            (
                c.state.group if isinstance(c, SessionSaved) else c.group
                for c in captures
                if isinstance(c, SessionSaved | VoteCaptured | ConsentRecorded | CardShown)
            ),
        ),
    )
    # Sessions go first: responses and votes of the same batch refer to their row.
    await _save_sessions(conn, _only(SessionSaved, captures), ids)
    await record_step_visits(conn, _only(SessionSaved, captures))
    await record_versions(conn, _only(ContentUsed, captures))
    rest = [c for c in captures if not isinstance(c, SessionSaved | ContentUsed)]
    stored: dict[MessageKey, bool] = {}
    for kind, grouped in groupby(rest, key=type):
        run = list(grouped)
        if kind is ResponseCaptured:
            rows = [reply_row(c) for c in _only(ResponseCaptured, run)]
            stored.update(await store_replies(conn, rows, marks, known))
        elif kind is VoteCaptured:
            await _upsert_votes(conn, _only(VoteCaptured, run), ids)
        elif kind is ConsentRecorded:
            await _upsert_consents(conn, _only(ConsentRecorded, run), ids)
        elif kind is ResponseEdited:
            for edit in _only(ResponseEdited, run):
                await edit_response(conn, edit, marks)
        elif kind is ResponseDeleted:
            for deletion in _only(ResponseDeleted, run):
                await _delete_response(conn, deletion, marks)
        elif kind is CardShown:
            await record_cards(conn, _only(CardShown, run), ids.groups)
        elif kind is ProfileAnswered:
            await save_answers(conn, _only(ProfileAnswered, run), ids.people)
        elif kind is ProfileDeleted:
            for gone in _only(ProfileDeleted, run):
                await delete_answers(conn, gone)
        elif kind is SoloSaved:
            await save_progress(conn, _only(SoloSaved, run))
        elif kind is ReflectionSaved:
            await save_reflections(conn, _only(ReflectionSaved, run))
        elif kind is LanguageChosen:
            await save_languages(conn, _only(LanguageChosen, run))
    return stored


def _only(kind: type[C], captures: Sequence[Capture]) -> list[C]:
    return [c for c in captures if isinstance(c, kind)]


def _last_per_key(rows: Sequence[tuple[Hashable, _Row]]) -> list[_Row]:
    # One statement may not upsert the same key twice (PostgreSQL refuses); the latest wins.
    return list(dict(rows).values())


def _message(group: GroupRef, message_id: str) -> ColumnElement[bool]:
    return and_(
        responses.c.platform == group.platform,
        responses.c.chat_id == group.chat_id,
        responses.c.message_id == message_id,
    )


async def _save_sessions(conn: AsyncConnection, saved: list[SessionSaved], ids: _Ids) -> None:
    if not saved:
        return
    now = datetime.now(UTC)
    keyed: list[tuple[Hashable, _Row]] = []
    for capture in saved:
        state = capture.state
        if state.session_id is None:
            raise ValueError("a session must have a session_id before it is saved")
        keyed.append(
            (
                state.session_id,
                {
                    "id": state.session_id,
                    "group_id": ids.groups[state.group],
                    "cycle_id": state.cycle_id,
                    "script_id": state.script_id,
                    "script_version": state.script_version,
                    "content_version": state.content_version,
                    "status": state.status.value,
                    "step_index": state.step_index,
                    "started_at": state.started_at,
                    "step_started_at": state.step_started_at,
                    "ended_at": state.ended_at,
                    "updated_at": now,
                    "language": state.language,
                },
            )
        )
    stmt = dialect_insert(conn, sessions)
    changing = [c.name for c in sessions.c if c.name != "id"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"], set_={name: stmt.excluded[name] for name in changing}
    )
    await conn.execute(stmt, _last_per_key(keyed))


async def _delete_response(conn: AsyncConnection, deletion: ResponseDeleted, marks: Marks) -> None:
    target = select(responses.c.id).where(_message(deletion.group, deletion.message_id))
    if deletion.person is not None:
        target = target.where(responses.c.participant_id == person_id(conn, deletion.person))
    # Explicit rather than relying on ON DELETE CASCADE, which SQLite honours only per PRAGMA.
    await conn.execute(delete(response_edits).where(response_edits.c.response_id.in_(target)))
    await conn.execute(delete(responses).where(responses.c.id.in_(target)))
    # Remembered for good, so a redelivered copy (or the message itself, if it comes later)
    # stays out.
    group = deletion.group
    await remember(conn, [marks.of(group.platform, group.chat_id, deletion.message_id)])


async def _upsert_votes(conn: AsyncConnection, captured: list[VoteCaptured], ids: _Ids) -> None:
    keyed: list[tuple[Hashable, _Row]] = []
    for c in captured:
        row = {
            "session_id": c.session_id,
            "participant_id": ids.people[c.person],
            "group_id": ids.groups[c.group],
            "step_id": c.step_id,
            "options": encode_options(c.options),
            "cast_at": c.at,
        }
        keyed.append(((c.session_id, row["participant_id"], c.step_id), row))
    stmt = dialect_insert(conn, votes)
    stmt = stmt.on_conflict_do_update(
        index_elements=["session_id", "participant_id", "step_id"],
        set_={"options": stmt.excluded.options, "cast_at": stmt.excluded.cast_at},
    )
    await conn.execute(stmt, _last_per_key(keyed))


async def _upsert_consents(
    conn: AsyncConnection, recorded: list[ConsentRecorded], ids: _Ids
) -> None:
    keyed: list[tuple[Hashable, _Row]] = []
    agreed: dict[tuple[int, int], list[_Row]] = {}
    for c in recorded:
        row: _Row = {
            "participant_id": ids.people[c.person],
            "group_id": ids.groups[c.group],
            "consent_version": c.version,
            "text_hash": c.text_hash,
            "given_at": c.at,
            "language": c.language,
        }
        key = (row["participant_id"], row["group_id"])
        keyed.append((key, row))
        agreed[key] = scope_rows(key[0], key[1], c.scopes, c.at)
    # A person's key is made when they agree, so their first reply need not wait for the key
    # store to commit one (it waits for no more than the database's own commit).
    keys_of(conn).ensure(row["participant_id"] for _, row in keyed)
    stmt = dialect_insert(conn, consents)
    changing = [name for name in keyed[0][1] if name not in ("participant_id", "group_id")]
    stmt = stmt.on_conflict_do_update(
        index_elements=["participant_id", "group_id"],
        set_={name: stmt.excluded[name] for name in changing},
    )
    await conn.execute(stmt, _last_per_key(keyed))
    # A consent given again replaces its scopes: those no longer agreed to go with the old rows.
    await conn.execute(
        delete(consent_scopes).where(
            consent_scopes.c.participant_id == bindparam("person"),
            consent_scopes.c.group_id == bindparam("group"),
        ),
        [{"person": person, "group": group} for person, group in agreed],
    )
    rows = [row for scopes in agreed.values() for row in scopes]
    if rows:
        await conn.execute(insert(consent_scopes), rows)
