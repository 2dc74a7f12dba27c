"""People: their consent, everything stored about them (subject access), and their erasure."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, func, insert, select, union_all

from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ErasureRequest, ProfileAnswer
from storage import _direct, _profile
from storage._base import RepositoryBase
from storage._erased import remember
from storage._keys import group_id, person_id
from storage._languages import language_of
from storage._scopes import scope_flags, scopes_of
from storage.audit import ASKED
from storage.db import sqlite_pragma
from storage.keystore import keys_of
from storage.records import (
    ConsentRecord,
    Erasure,
    PersonData,
    ResponseRecord,
    VoteRecord,
    decode_options,
)
from storage.sealed import open_reply
from storage.standing import forget_invitations
from storage.tables import (
    audit,
    consent_scopes,
    consents,
    direct_progress,
    facilitators,
    groups,
    identities,
    pending_edits,
    person_languages,
    profile_answers,
    response_edits,
    responses,
    session_reflections,
    sessions,
    votes,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)


def _consent(row: Row[Any]) -> ConsentRecord:
    return ConsentRecord(
        scopes=scopes_of(row._mapping),
        version=row.consent_version,
        text_hash=row.text_hash,
        given_at=row.given_at,
        language=row.language,
        group_title=row._mapping.get("group_title"),
    )


class People(RepositoryBase):
    """A person's consent, their data, and erasing it."""

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
                    groups.c.title.label("group_title"),
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
                select(
                    responses,
                    earlier.label("earlier_versions"),
                    sessions.c.script_id,
                    sessions.c.content_version,
                )
                .outerjoin(sessions, sessions.c.id == responses.c.session_id)
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
                    script_id=row.script_id,
                    content_version=row.content_version,
                )
                for row in response_rows
            )
            vote_rows = await conn.execute(
                select(
                    votes,
                    groups.c.platform,
                    groups.c.chat_id,
                    sessions.c.script_id,
                    sessions.c.content_version,
                )
                .join(groups, groups.c.id == votes.c.group_id)
                .outerjoin(sessions, sessions.c.id == votes.c.session_id)
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
                    script_id=row.script_id,
                    content_version=row.content_version,
                )
                for row in vote_rows
            )
            found_profile = await _profile.answers_of(conn, pid)
            places, reflections = await _direct.of_person(conn, pid)
            language = await language_of(conn, pid)
        return PersonData(
            consents=found_consents,
            responses=found_responses,
            votes=found_votes,
            profile=found_profile,
            places=places,
            reflections=reflections,
            language=language,
        )

    async def profile_answers(self, person: PersonRef) -> tuple[ProfileAnswer, ...]:
        """The person's answers to the profile questions (None answers: skipped)."""
        async with self._engine.connect() as conn:
            pid = (await conn.execute(select(person_id(conn, person)))).scalar()
            return () if pid is None else await _profile.answers_of(conn, pid)

    async def language(self, person: PersonRef) -> str | None:
        """The language the person chose, if they chose one and it is stored."""
        async with self._engine.connect() as conn:
            pid = (await conn.execute(select(person_id(conn, person)))).scalar()
            return None if pid is None else await language_of(conn, pid)

    async def erase_person(
        self,
        person: PersonRef,
        pseudonym: str,
        at: datetime,
        request: ErasureRequest = "person",
    ) -> Erasure:
        """Delete everything of the person, audit it by pseudonym, and purge the freed bytes.

        Their messages are remembered as erased, so no copy of one is ever stored again. An
        erasure asked ``again`` finds only what was stored since the last one: when nothing
        was, it does nothing and the audit gets no entry.
        """
        async with self._writer.begin() as conn:
            pid = (await conn.execute(select(person_id(conn, person)))).scalar()
            counts = Erasure(responses=0, votes=0, consents=0)
            if pid is None and request == "again":
                return counts
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
                        person_languages,
                    )
                ]
                await conn.execute(delete(identities).where(identities.c.id == pid))
                counts = Erasure(
                    responses=removed[0], votes=removed[1], consents=removed[2], profile=removed[6]
                )
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
                        **ASKED[request],
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
