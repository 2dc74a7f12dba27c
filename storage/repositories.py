"""The repository: every query the application makes goes through here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.content.version import Version
from bot.core.captures import Capture
from bot.core.desk import Desk
from bot.core.ids import GroupRef, MessageRef, PersonRef
from bot.core.records import ProfileAnswer, SessionHeard, Turnout
from bot.core.state import SessionState, Status
from storage import _content, _direct, _export, _profile, _registrations
from storage._batch import Submission, apply_submissions
from storage._erased import Marks, remember
from storage._keys import (
    PERSON_COLUMNS,
    dialect_insert,
    ensure_groups,
    ensure_people,
    group_id,
    open_person,
    person_id,
)
from storage._registrations import RegisteredGroup
from storage._scopes import scope_flags, scopes_of
from storage.db import for_writes, sqlite_pragma
from storage.keystore import keys_of
from storage.records import (
    AuditEntry,
    ConsentRecord,
    Erasure,
    ParticipantRow,
    PersonData,
    ResponseRecord,
    ResponseRow,
    VoteRecord,
    VoteRow,
    decode_options,
)
from storage.sealed import open_reply
from storage.standing import StandingQueries, forget_invitations
from storage.tables import (
    audit,
    consent_scopes,
    consents,
    direct_progress,
    facilitators,
    groups,
    identities,
    pending_edits,
    profile_answers,
    response_edits,
    responses,
    session_reflections,
    sessions,
    votes,
)

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500


def _consent(row: Row[Any]) -> ConsentRecord:
    return ConsentRecord(
        scopes=scopes_of(row._mapping),
        version=row.consent_version,
        text_hash=row.text_hash,
        given_at=row.given_at,
    )


def _session(row: Row[Any]) -> SessionState:
    return SessionState(
        group=GroupRef(row.platform, row.chat_id),
        status=Status(row.status),
        session_id=row.id,
        cycle_id=row.cycle_id,
        script_id=row.script_id,
        script_version=row.script_version,
        content_version=row.content_version,
        step_index=row.step_index,
        started_at=row.started_at,
        step_started_at=row.step_started_at,
        ended_at=row.ended_at,
    )


class Repository(StandingQueries):
    """All reads and writes of the bot's data, on one async engine."""

    def __init__(self, engine: AsyncEngine, key: bytes) -> None:
        """Use ``engine`` (from ``storage.db.make_engine``) for every query.

        ``key`` is the deployment's pseudonym key: erased messages are remembered by a hash
        made with it (see storage._erased).
        """
        self._engine = engine
        self._writer = for_writes(engine)
        self._marks = Marks(key)

    async def apply(self, captures: Sequence[Capture]) -> None:
        """Persist a batch of captures in order, all in one transaction."""
        if captures:
            await self.apply_once(None, captures)

    async def apply_once(self, message: MessageRef | None, captures: Sequence[Capture]) -> bool:
        """Persist captures in one transaction unless ``message`` was handled before.

        Returns whether they were applied; the message is remembered as handled either way.
        """
        async with self._writer.begin() as conn:
            submission = Submission(message, captures)
            now = datetime.now(UTC)
            (applied,) = await apply_submissions(conn, [submission], now, self._marks)
        return applied

    async def consent(self, person: PersonRef, group: GroupRef) -> ConsentRecord | None:
        """Return the person's consent in the group, or None; never creates an identity."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        consents, *scope_flags(consents.c.participant_id, consents.c.group_id)
                    ).where(
                        consents.c.participant_id == person_id(conn, person),
                        consents.c.group_id == group_id(group),
                    )
                )
            ).first()
        return None if row is None else _consent(row)

    async def set_group_title(self, group: GroupRef, title: str | None) -> None:
        """Record the group's display name, used in exports."""
        async with self._writer.begin() as conn:
            ids = await ensure_groups(conn, [group])
            await conn.execute(update(groups).where(groups.c.id == ids[group]).values(title=title))

    async def facilitators(self, group: GroupRef) -> frozenset[PersonRef]:
        """Return the people allowed to facilitate in the group."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*PERSON_COLUMNS)
                .join(facilitators, facilitators.c.participant_id == identities.c.id)
                .where(facilitators.c.group_id == group_id(group))
            )
            keys = keys_of(conn)
            return frozenset(open_person(keys, *row) for row in rows)

    async def grant_facilitator(self, group: GroupRef, person: PersonRef, at: datetime) -> None:
        """Let the person facilitate in the group; granting twice keeps the first time."""
        async with self._writer.begin() as conn:
            people = await ensure_people(conn, [person])
            group_ids = await ensure_groups(conn, [group])
            await conn.execute(
                dialect_insert(conn, facilitators)
                .values(group_id=group_ids[group], participant_id=people[person], granted_at=at)
                .on_conflict_do_nothing(index_elements=["group_id", "participant_id"])
            )

    async def revoke_facilitator(self, group: GroupRef, person: PersonRef) -> bool:
        """Stop the person facilitating in the group; False if they were not a facilitator."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(facilitators).where(
                    facilitators.c.group_id == group_id(group),
                    facilitators.c.participant_id == person_id(conn, person),
                )
            )
            return result.rowcount > 0

    async def register_group(self, group: GroupRef, at: datetime, title: str | None = None) -> bool:
        """Let the group run sessions (and record its name); False if it was already."""
        async with self._writer.begin() as conn:
            return await _registrations.register(conn, group, at, title)

    async def unregister_group(self, group: GroupRef) -> bool:
        """Stop the group running new sessions; False if it was not registered."""
        async with self._writer.begin() as conn:
            return await _registrations.unregister(conn, group)

    async def is_registered(self, group: GroupRef) -> bool:
        """Whether staff registered the group for dialogues."""
        async with self._engine.connect() as conn:
            return await _registrations.is_registered(conn, group)

    async def registered_groups(self) -> list[RegisteredGroup]:
        """Every registered group, oldest first."""
        async with self._engine.connect() as conn:
            return await _registrations.registered(conn)

    async def vote_of(self, session_id: str, person: PersonRef, step_id: str) -> tuple[int, ...]:
        """The person's current answer to a step of a session (empty if none)."""
        async with self._engine.connect() as conn:
            return await _registrations.vote_of(conn, session_id, person, step_id)

    async def answers(self, session_id: str, step_id: str) -> list[tuple[int, ...]]:
        """Everyone's current answer to a step of a session, without who gave it."""
        async with self._engine.connect() as conn:
            return await _registrations.answers(conn, session_id, step_id)

    async def live_sessions(self) -> list[SessionState]:
        """Return every running or paused session, to resume after a restart."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(sessions, groups.c.platform, groups.c.chat_id)
                .join(groups, groups.c.id == sessions.c.group_id)
                .where(sessions.c.status.in_([Status.RUNNING.value, Status.PAUSED.value]))
                .order_by(sessions.c.id)
            )
            return [_session(row) for row in rows]

    async def session(self, session_id: str) -> SessionState | None:
        """Return the stored state of one session, or None."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions, groups.c.platform, groups.c.chat_id)
                    .join(groups, groups.c.id == sessions.c.group_id)
                    .where(sessions.c.id == session_id)
                )
            ).first()
        return None if row is None else _session(row)

    async def person_data(self, person: PersonRef) -> PersonData:
        """Return everything stored about the person, for a subject access request."""
        async with self._engine.connect() as conn:
            pid = (await conn.execute(select(person_id(conn, person)))).scalar()
            if pid is None:
                return PersonData()
            consent_rows = await conn.execute(
                select(
                    consents,
                    *scope_flags(consents.c.participant_id, consents.c.group_id),
                    groups.c.platform.label("group_platform"),
                    groups.c.chat_id,
                )
                .join(groups, groups.c.id == consents.c.group_id)
                .where(consents.c.participant_id == pid)
                .order_by(consents.c.id)
            )
            found_consents = tuple(
                (GroupRef(row.group_platform, row.chat_id), _consent(row)) for row in consent_rows
            )
            earlier = (
                select(func.count())
                .where(response_edits.c.response_id == responses.c.id)
                .scalar_subquery()
            )
            response_rows = await conn.execute(
                select(responses, earlier.label("earlier_versions"))
                .where(responses.c.participant_id == pid)
                .order_by(responses.c.id)
            )
            keys = keys_of(conn)
            found_responses = tuple(
                ResponseRecord(
                    group=GroupRef(row.platform, row.chat_id),
                    session_id=row.session_id,
                    step_id=row.step_id,
                    message_id=row.message_id,
                    text=open_reply(
                        keys, pid, (row.platform, row.chat_id, row.message_id), row.text
                    ),
                    posted_at=row.posted_at,
                    edited_at=row.edited_at,
                    earlier_versions=row.earlier_versions,
                )
                for row in response_rows
            )
            vote_rows = await conn.execute(
                select(votes, groups.c.platform, groups.c.chat_id)
                .join(groups, groups.c.id == votes.c.group_id)
                .where(votes.c.participant_id == pid)
                .order_by(votes.c.id)
            )
            found_votes = tuple(
                VoteRecord(
                    group=GroupRef(row.platform, row.chat_id),
                    session_id=row.session_id,
                    step_id=row.step_id,
                    options=decode_options(row.options),
                    cast_at=row.cast_at,
                )
                for row in vote_rows
            )
            found_profile = await _profile.answers_of(conn, pid)
            places, reflections = await _direct.of_person(conn, pid)
        return PersonData(
            consents=found_consents,
            responses=found_responses,
            votes=found_votes,
            profile=found_profile,
            places=places,
            reflections=reflections,
        )

    async def profile_answers(self, person: PersonRef) -> tuple[ProfileAnswer, ...]:
        """The person's answers to the profile questions (None answers: skipped)."""
        async with self._engine.connect() as conn:
            pid = (await conn.execute(select(person_id(conn, person)))).scalar()
            return () if pid is None else await _profile.answers_of(conn, pid)

    async def turnout(self, session_id: str, step_id: str, group: GroupRef) -> Turnout:
        """How many consented people of the group's chat have spoken at a step, and at all."""
        async with self._engine.connect() as conn:
            return await _profile.turnout(conn, session_id, step_id, group)

    async def desk(self, person: PersonRef) -> Desk:
        """The person's self-paced dialogue, open reflection, and whether they facilitate."""
        async with self._engine.connect() as conn:
            return await _direct.desk(conn, person)

    async def content_versions(self, digests: Iterable[str]) -> dict[str, Version]:
        """The kept content versions of these digests (see ``bot.content.version``)."""
        async with self._engine.connect() as conn:
            return await _content.read_versions(conn, digests)

    async def heard(self, session_id: str) -> SessionHeard:
        """What a session heard, as counts, for its "what we heard today" summary."""
        async with self._engine.connect() as conn:
            return await _direct.heard(conn, session_id)

    async def erase_person(self, person: PersonRef, pseudonym: str, at: datetime) -> Erasure:
        """Delete everything of the person, audit it by pseudonym, and purge the freed bytes.

        Their messages are remembered as erased, so no copy of one is ever stored again.
        """
        async with self._writer.begin() as conn:
            pid = (await conn.execute(select(person_id(conn, person)))).scalar()
            counts = Erasure(responses=0, votes=0, consents=0)
            if pid is not None:
                await remember(conn, await self._messages_of(conn, pid))
                theirs = select(responses.c.id).where(responses.c.participant_id == pid)
                await conn.execute(
                    delete(response_edits).where(response_edits.c.response_id.in_(theirs))
                )
                removed = [
                    (
                        await conn.execute(delete(table).where(table.c.participant_id == pid))
                    ).rowcount
                    for table in (
                        responses,
                        votes,
                        consent_scopes,
                        consents,
                        facilitators,
                        pending_edits,
                        profile_answers,
                        direct_progress,
                        session_reflections,
                    )
                ]
                await conn.execute(delete(identities).where(identities.c.id == pid))
                counts = Erasure(responses=removed[0], votes=removed[1], consents=removed[2])
                # Before the deletion commits: should it fail after this, what is left of the
                # person is unreadable, as they asked; every older copy of it already is.
                keys_of(conn).destroy([pid])
            # Also for someone who never agreed: invited again, they would be told again.
            await forget_invitations(conn, pseudonym)
            await conn.execute(
                insert(audit).values(
                    at=at,
                    kind="erasure",
                    detail={
                        "pseudonym": pseudonym,
                        "responses": counts.responses,
                        "votes": counts.votes,
                        "consents": counts.consents,
                    },
                )
            )
        if self._engine.dialect.name == "sqlite":
            await self._checkpoint()
        return counts

    async def _messages_of(self, conn: AsyncConnection, pid: int) -> list[bytes]:
        """The marks of the person's stored replies, and of those an edit of theirs awaits."""
        found = await conn.execute(
            union_all(
                *(
                    select(table.c.platform, table.c.chat_id, table.c.message_id).where(
                        table.c.participant_id == pid
                    )
                    for table in (responses, pending_edits)
                )
            )
        )
        return [self._marks.of(*message) for message in found]

    async def _checkpoint(self) -> None:
        # secure_delete zeroed the freed cells, but the old pages still sit in the WAL
        # until it is copied back and truncated.
        async with self._engine.connect() as conn:
            result = await sqlite_pragma(conn, "PRAGMA wal_checkpoint(TRUNCATE)")
        if result is None or result[0]:
            # The rows are gone either way; their bytes leave the WAL at the next checkpoint.
            log.warning("erasure checkpoint was blocked by open readers")

    async def record_audit(self, kind: str, at: datetime, detail: Mapping[str, object]) -> None:
        """Append an audit entry; ``detail`` must hold no platform ids or participant text."""
        async with self._writer.begin() as conn:
            await conn.execute(insert(audit).values(at=at, kind=kind, detail=dict(detail)))

    async def audit_entries(self, kind: str | None = None) -> list[AuditEntry]:
        """Return audit entries, oldest first, optionally of one kind."""
        query = select(audit).order_by(audit.c.id)
        if kind is not None:
            query = query.where(audit.c.kind == kind)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [AuditEntry(id=r.id, at=r.at, kind=r.kind, detail=r.detail) for r in rows]

    def iter_responses(
        self, cycle_id: str | None = None, batch_size: int = DEFAULT_BATCH
    ) -> AsyncIterator[ResponseRow]:
        """Stream every response of a cycle (None: all), fetched ``batch_size`` at a time."""
        return _export.iter_responses(self._engine, cycle_id, batch_size)

    def iter_votes(
        self, cycle_id: str | None = None, batch_size: int = DEFAULT_BATCH
    ) -> AsyncIterator[VoteRow]:
        """Stream every vote of a cycle (None: all), fetched ``batch_size`` at a time."""
        return _export.iter_votes(self._engine, cycle_id, batch_size)

    def iter_participants(
        self, cycle_id: str | None = None, batch_size: int = DEFAULT_BATCH
    ) -> AsyncIterator[ParticipantRow]:
        """Stream consents; for a cycle, of the people who contributed to it."""
        return _export.iter_participants(self._engine, cycle_id, batch_size)
