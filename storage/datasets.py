"""Reads and records for dataset exports: a cycle's sessions, what they showed, and each export.

Rows of replies, votes and consents are streamed in pages (``storage._export``); everything
else here is per session or per group, small enough to read whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, func, insert, select, union, update

from bot.content.scopes import Scope
from bot.content.version import Version
from bot.core.direct import is_direct
from bot.core.ids import GroupRef, PersonRef
from storage import _export
from storage._content import Residents, answered_version, read_versions, resident_versions
from storage._export import REPLY_COLUMNS, Fetch, R, ReplyBatch
from storage._keys import PERSON_COLUMNS, People
from storage._profile import open_answer
from storage.dataset_records import (
    CardExposureRow,
    CycleRow,
    ErasureNotice,
    ExportRecord,
    ProfileAnswerRow,
    SessionRow,
    StepVisitRow,
)
from storage.db import for_writes, scanning, sqlite_file
from storage.direct import ReflectionRow, reflections
from storage.heard import EVERY_QUOTE, Heard, Quoting, heard
from storage.keystore import KeyStore, keys_of
from storage.reach import CycleReach, cycle_reach
from storage.records import ParticipantRow, ResponseRow, VoteRow
from storage.sealed import open_reply
from storage.tables import (
    audit,
    card_exposures,
    consent_scopes,
    cycles,
    export_pseudonyms,
    exports,
    groups,
    identities,
    profile_answers,
    responses,
    sessions,
    step_visits,
    votes,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_BATCH = 2000
_CHUNK = 1000


# Where a reply row (``REPLY_COLUMNS``) holds its session and its person.
_SESSION, _PARTICIPANT = (
    next(i for i, c in enumerate(REPLY_COLUMNS) if c is column)
    for column in (responses.c.session_id, responses.c.participant_id)
)


def _reply(
    row: Row[Any], session: SessionRow, residents: Residents, keys: KeyStore, people: People
) -> ResponseRow:
    # Unpacked by position: reading a Row's fields by name costs more than the rest of an
    # export's work on the reply.
    (
        response_id, session_id, step_id, message_id, sealed_text, kind, reply_to, posted_at,
        edited_at, language, platform, sealed_user, participant, message_platform, chat,
    ) = cast(Sequence[Any], row)  # fmt: skip
    text = open_reply(keys, participant, (message_platform, chat, message_id), sealed_text)
    person = people(participant, platform, sealed_user)
    return ResponseRow(
        response_id,
        person,
        session.group,
        session.group_title,
        session_id,
        session.cycle_id,
        session.script_id,
        session.script_version,
        step_id,
        message_id,
        text,
        kind,
        reply_to,
        posted_at,
        edited_at,
        answered_version(session.group, person, session, residents),
        language,
    )


def _chunks(items: Iterable[str], size: int = _CHUNK) -> Iterable[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _export_record(row: Row[Any]) -> ExportRecord:
    return ExportRecord(
        row.id, row.started_at, row.completed_at, row.cycle_id, row.profile, row.made_by
    )


@dataclass(frozen=True, slots=True)
class Source:
    """What another process needs to read the same database: its URL, key store and page size."""

    url: str
    keys: str
    batch_size: int


class Datasets:
    """The queries behind ``dialogue export``, on one async engine."""

    def __init__(self, engine: AsyncEngine, batch_size: int = DEFAULT_BATCH) -> None:
        """Read with ``engine``, streaming ``batch_size`` rows a page."""
        self._engine = engine
        self._writer = for_writes(engine)
        self.batch_size = batch_size

    def source(self) -> Source | None:
        """Where another process can read this database; None for one in memory (this one's)."""
        keys = keys_of(self._engine)
        url = self._engine.url.render_as_string(hide_password=False)
        if keys.memory or (self._engine.dialect.name == "sqlite" and sqlite_file(url) is None):
            return None
        return Source(url, keys.path, self.batch_size)

    async def cycles(self) -> list[CycleRow]:
        """Every cycle that has sessions or is managed, earliest first."""
        first = func.min(sessions.c.started_at)
        query = (
            select(sessions.c.cycle_id, func.count(), first)
            .where(sessions.c.cycle_id.is_not(None))
            .group_by(sessions.c.cycle_id)
        )
        async with self._engine.connect() as conn:
            counted = {r[0]: (r[1], r[2]) for r in await conn.execute(query)}
            managed = {
                r.id: (r.title, r.opens_at)
                for r in await conn.execute(select(cycles.c.id, cycles.c.title, cycles.c.opens_at))
            }
        found = [
            CycleRow(c, *counted.get(c, (0, None)), *managed.get(c, (None, None)))
            for c in {*counted, *managed}
        ]
        return sorted(found, key=lambda c: (c.began is None, c.began or 0, c.cycle_id))

    async def sessions(self, cycle_id: str | None) -> list[SessionRow]:
        """The sessions of a cycle (None: all), in the order they started."""
        query = select(sessions, groups.c.platform, groups.c.chat_id, groups.c.title).join(
            groups, groups.c.id == sessions.c.group_id
        )
        if cycle_id is not None:
            query = query.where(sessions.c.cycle_id == cycle_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(sessions.c.started_at, sessions.c.id))).all()
        # Held by the export from start to end: each value sessions share (a group, a cycle,
        # a script, a status...) is kept once, not once a session as the driver gives it.
        shared: dict[object, Any] = {}

        def one(value: object) -> Any:
            return shared.setdefault(value, value)

        return [
            SessionRow(
                session_id=r.id,
                cycle_id=one(r.cycle_id),
                group=one(GroupRef(r.platform, r.chat_id)),
                group_title=one(r.title),
                script_id=one(r.script_id),
                script_version=one(r.script_version),
                status=one(r.status),
                step_index=r.step_index,
                started_at=r.started_at,
                ended_at=r.ended_at,
                content_version=one(r.content_version),
            )
            for r in rows
        ]

    async def content_versions(self, digests: Iterable[str]) -> dict[str, Version]:
        """The kept content versions of these digests (see ``bot.content.version``)."""
        async with self._engine.connect() as conn:
            return await read_versions(conn, digests)

    async def resident_versions(self, cycle_id: str | None) -> Residents:
        """The content version each resident's self-paced dialogue ran, by person and cycle."""
        async with self._engine.connect() as conn:
            return await resident_versions(conn, cycle_id)

    async def groups(self) -> dict[GroupRef, str | None]:
        """Every group with its title."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(groups.c.platform, groups.c.chat_id, groups.c.title))
            return {GroupRef(p, c): t for p, c, t in rows}

    async def step_visits(self, cycle_id: str | None) -> list[StepVisitRow]:
        """Each step shown in the cycle's sessions, by session and time."""
        return [visit async for page in self.step_visit_pages(cycle_id) for visit in page]

    async def step_visit_pages(self, cycle_id: str | None) -> AsyncIterator[list[StepVisitRow]]:
        """``step_visits`` a page at a time.

        A big cycle has a visit for every step of every session: an export keeps them in a
        compact form of its own (``exporters.cycle_read.Visits``).
        """
        query = select(step_visits).join(sessions, sessions.c.id == step_visits.c.session_id)
        if cycle_id is not None:
            query = query.where(sessions.c.cycle_id == cycle_id)
        query = query.order_by(step_visits.c.session_id, step_visits.c.started_at)
        # A session's visits share one id string.
        ids: dict[str, str] = {}
        async with scanning(self._engine) as conn:
            result = await conn.stream(query)
            async for rows in result.partitions(self.batch_size):
                yield [
                    StepVisitRow(
                        ids.setdefault(r.session_id, r.session_id), r.step_index, r.started_at
                    )
                    for r in rows
                ]

    async def card_exposures(self, cycle_id: str | None) -> list[CardExposureRow]:
        """Each card shown in the cycle's sessions, by session and time."""
        query = (
            select(card_exposures, groups.c.platform, groups.c.chat_id)
            .join(sessions, sessions.c.id == card_exposures.c.session_id)
            .join(groups, groups.c.id == card_exposures.c.group_id)
        )
        if cycle_id is not None:
            query = query.where(sessions.c.cycle_id == cycle_id)
        query = query.order_by(card_exposures.c.session_id, card_exposures.c.id)
        async with scanning(self._engine) as conn:
            rows = (await conn.execute(query)).all()
        return [
            CardExposureRow(
                r.session_id,
                GroupRef(r.platform, r.chat_id),
                r.step_id,
                r.card_id,
                r.card_version,
                r.shown_at,
            )
            for r in rows
        ]

    async def counts(self, cycle_id: str | None) -> tuple[int, int]:
        """How many replies and votes the cycle holds (for a progress bar)."""
        found = []
        for table in (responses, votes):
            query = select(func.count()).select_from(
                table.join(sessions, sessions.c.id == table.c.session_id)
            )
            if cycle_id is not None:
                query = query.where(sessions.c.cycle_id == cycle_id)
            # Counting reads every reply's index entry once: a scan.
            async with scanning(self._engine) as conn:
                found.append(int((await conn.execute(query)).scalar_one()))
        return found[0], found[1]

    async def responses(self, sessions: Sequence[SessionRow]) -> AsyncIterator[list[ResponseRow]]:
        """Stream pages of replies, session by session in the order given, each by id.

        Small sessions are read together, a page of about ``batch_size`` replies at a time;
        a session larger than that is paged on its own. (One sort over the whole cycle would
        make every page cost as much as the rest of the cycle.) A reply's group, cycle and
        script come from its session rather than a join per row, and the next page is read
        while the caller works through this one.
        """
        known = {s.session_id: s for s in sessions}
        keys, people, residents = await self._opening(sessions)
        async for page in self._keyed_pages(sessions, keys, _export.typed_rows):
            yield [_reply(row, known[row.session_id], residents, keys, people) for row in page]

    async def reply_batches(self, sessions: Sequence[SessionRow]) -> AsyncIterator[ReplyBatch]:
        """The replies of ``responses``, in the same pages and order, each page as columns.

        See ``storage._export.ReplyBatch`` for the columns; no reply becomes an object.
        """
        known = {s.session_id: s for s in sessions}
        keys, people, residents = await self._opening(sessions)

        def version(session_id: str, person: PersonRef) -> str | None:
            session = known[session_id]
            return answered_version(session.group, person, session, residents)

        # Straight from the driver: the page becomes columns, no row an object on the way.
        async for page in self._keyed_pages(sessions, keys, _export.driver_rows):
            yield _export.reply_batch(page, keys, people, version)

    async def _opening(self, sessions: Sequence[SessionRow]) -> tuple[KeyStore, People, Residents]:
        """What opens the sessions' replies: the key store, its people, residents' versions."""
        keys = keys_of(self._engine)
        # Residents' own versions, read only when the export holds a cycle's direct session.
        cycles = {s.cycle_id for s in sessions if is_direct(s.group)}
        one = next(iter(cycles)) if len(cycles) == 1 else None
        residents = await self.resident_versions(one) if cycles else {}
        return keys, People(keys), residents

    async def _keyed_pages(
        self, sessions: Sequence[SessionRow], keys: KeyStore, fetch: Fetch[R]
    ) -> AsyncGenerator[list[R]]:
        """Pages of ``REPLY_COLUMNS`` rows, each page's keys loaded, the next page read ahead."""
        pages = self._reply_pages(list(dict.fromkeys(s.session_id for s in sessions)), fetch)
        upcoming = asyncio.ensure_future(anext(pages, None))
        try:
            while (page := await upcoming) is not None:
                upcoming = asyncio.ensure_future(anext(pages, None))
                # Each person's key is read once, with the page's other new people's.
                keys.preload(row[_PARTICIPANT] for row in page)
                yield page
        finally:
            upcoming.cancel()
            await pages.aclose()

    async def _reply_pages(
        self, session_ids: Sequence[str], fetch: Fetch[R]
    ) -> AsyncGenerator[list[R]]:
        sizes = await self._reply_counts(session_ids)
        query = select(*REPLY_COLUMNS).join(
            identities, identities.c.id == responses.c.participant_id
        )
        waiting: list[str] = []
        queued = 0
        for session_id in [*session_ids, None]:
            size = sizes.get(session_id, 0) if session_id is not None else 0
            if waiting and (session_id is None or queued + size > self.batch_size):
                async with scanning(self._engine) as conn:
                    page = query.where(responses.c.session_id.in_(waiting))
                    rows = await fetch(conn, page.order_by(responses.c.id))
                by_session: dict[str, list[R]] = {s: [] for s in waiting}
                for row in rows:
                    by_session[row[_SESSION]].append(row)
                yield [row for found in by_session.values() for row in found]
                waiting, queued = [], 0
            if session_id is None or not size:
                continue
            if size > self.batch_size:
                alone = query.where(responses.c.session_id == session_id)
                async for alone_rows in _export._pages(
                    self._engine, alone, responses.c.id, self.batch_size, fetch
                ):
                    yield list(alone_rows)
                continue
            waiting.append(session_id)
            queued += size

    async def _reply_counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        wanted = set(session_ids)
        query = select(responses.c.session_id, func.count()).group_by(responses.c.session_id)
        # Every reply, grouped: a scan.
        async with scanning(self._engine) as conn:
            return {s: int(n) for s, n in await conn.execute(query) if s in wanted}

    async def votes(self, cycle_id: str | None) -> AsyncIterator[VoteRow]:
        """Stream the cycle's votes, each with the content version its person answered."""
        residents = await self.resident_versions(cycle_id)
        async for vote in _export.iter_votes(self._engine, cycle_id, self.batch_size):
            version = answered_version(vote.group, vote.person, vote, residents)
            yield (
                vote if version == vote.content_version else replace(vote, content_version=version)
            )

    def participants(self, cycle_id: str | None) -> AsyncIterator[ParticipantRow]:
        """Stream the consents of the cycle's contributors."""
        return _export.iter_participants(self._engine, cycle_id, self.batch_size)

    async def reflections(self, cycle_id: str | None) -> list[ReflectionRow]:
        """Facilitators' reflections on the cycle's sessions (None: every session)."""
        return await reflections(self._engine, cycle_id)

    async def heard(self, cycle_id: str, quoting: Quoting = EVERY_QUOTE) -> Heard:
        """What the cycle's "what we heard" card counts, and its quotes (see ``storage.heard``)."""
        return await heard(self._engine, cycle_id, quoting)

    async def reach(self, cycle_id: str | None) -> CycleReach:
        """Who took part in the cycle (None: every session), for the reach report."""
        return await cycle_reach(self._engine, cycle_id)

    async def profile_answers(self) -> AsyncIterator[ProfileAnswerRow]:
        """Stream the profile answers of people who agreed to the profile scope somewhere."""
        consented = select(consent_scopes.c.participant_id).where(
            consent_scopes.c.scope == Scope.PROFILE.value
        )
        query = (
            select(profile_answers, identities.c.platform, identities.c.sealed_user_id)
            .join(identities, identities.c.id == profile_answers.c.participant_id)
            .where(profile_answers.c.participant_id.in_(consented))
        )
        keys = keys_of(self._engine)
        people = People(keys)
        async with self._engine.connect() as conn:
            result = await conn.stream(
                query.order_by(profile_answers.c.participant_id, profile_answers.c.question_id)
            )
            async for r in result:
                answer = open_answer(keys, r.participant_id, r.question_id, r.answer)
                yield ProfileAnswerRow(
                    people(r.participant_id, r.platform, r.sealed_user_id),
                    r.question_id,
                    answer,
                    r.answered_at,
                )

    async def returning(self, cycle_id: str, before: datetime) -> list[tuple[PersonRef, str]]:
        """People of this cycle who took part in another cycle's sessions started earlier."""
        activity = union(
            select(responses.c.participant_id, responses.c.session_id),
            select(votes.c.participant_id, votes.c.session_id),
        ).subquery()
        joined = activity.join(sessions, sessions.c.id == activity.c.session_id)
        here = select(activity.c.participant_id).select_from(joined)
        here = here.where(sessions.c.cycle_id == cycle_id)
        query = (
            select(*PERSON_COLUMNS, sessions.c.cycle_id)
            .select_from(joined.join(identities, identities.c.id == activity.c.participant_id))
            .where(
                sessions.c.cycle_id != cycle_id,
                sessions.c.started_at < before,
                activity.c.participant_id.in_(here),
            )
            .distinct()
        )
        # Every reply and vote of the database, sorted for the union: a scan.
        async with scanning(self._engine) as conn:
            rows = (await conn.execute(query)).all()
        people = People(keys_of(self._engine))
        return [(people(i, p, u), c) for i, p, u, c in rows]

    async def start_export(
        self, cycle_id: str | None, profile: str, made_by: str, at: datetime
    ) -> int:
        """Record that an export began; returns its id."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                insert(exports)
                .values(started_at=at, cycle_id=cycle_id, profile=profile, made_by=made_by)
                .returning(exports.c.id)
            )
            return int(result.scalar_one())

    async def finish_export(
        self,
        export_id: int,
        pseudonyms: Iterable[str],
        at: datetime,
        detail: Mapping[str, object],
    ) -> None:
        """Record the pseudonyms an export held and audit it, in one transaction."""
        async with self._writer.begin() as conn:
            for chunk in _chunks(sorted(set(pseudonyms))):
                await conn.execute(
                    insert(export_pseudonyms),
                    [{"export_id": export_id, "pseudonym": p} for p in chunk],
                )
            await conn.execute(
                update(exports).where(exports.c.id == export_id).values(completed_at=at)
            )
            await conn.execute(
                insert(audit).values(
                    at=at, kind="export", detail={"export_id": export_id, **dict(detail)}
                )
            )

    async def exports(self) -> list[ExportRecord]:
        """Every export, oldest first."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(exports).order_by(exports.c.id))).all()
        return [_export_record(r) for r in rows]

    async def erasures_since(self, export_id: int) -> list[ErasureNotice]:
        """Pseudonyms that exports from ``export_id`` on held, of people who withdrew after."""
        async with self._engine.connect() as conn:
            entries = await conn.execute(
                select(audit.c.at, audit.c.detail).where(audit.c.kind == "erasure")
            )
            erased: dict[str, list[datetime]] = {}
            for at, detail in entries:
                pseudonym = detail.get("pseudonym") if isinstance(detail, dict) else None
                if isinstance(pseudonym, str):
                    erased.setdefault(pseudonym, []).append(at)
            notices: list[ErasureNotice] = []
            for chunk in _chunks(erased):
                rows = await conn.execute(
                    select(exports, export_pseudonyms.c.pseudonym)
                    .join(export_pseudonyms, export_pseudonyms.c.export_id == exports.c.id)
                    .where(exports.c.id >= export_id, export_pseudonyms.c.pseudonym.in_(chunk))
                )
                for row in rows:
                    record = _export_record(row)
                    after = [t for t in erased[row.pseudonym] if t > record.started_at]
                    if after:
                        notices.append(ErasureNotice(record, row.pseudonym, min(after)))
        return sorted(notices, key=lambda n: (n.export.export_id, n.pseudonym))
