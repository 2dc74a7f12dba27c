"""The streamed pass of an export: consents, then each session's replies, then votes.

What is read goes to every format (``exporters.writer``) in batches: table rows through the
sinks, each session's story, the Polis ballots; the profile decides what each may see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from bot.content.check import Library
from bot.content.models import Step
from bot.content.scopes import SCOPES, Scope
from exporters.aggregates import Aggregates
from exporters.codebook import Codebook, short
from exporters.heard_card import worth_quoting
from exporters.polis import Ballots
from exporters.progress import Progress
from exporters.pseudonymise import Naming
from exporters.qdpx import Value
from exporters.redact import Redactor
from exporters.sink import BATCH, Sinks
from exporters.themes import OpenReplies
from exporters.writer import Casts, Replies, SessionPart, Writers
from storage.dataset_records import CardExposureRow, SessionRow, StepVisitRow
from storage.datasets import Datasets
from storage.records import ResponseRow


@dataclass
class Walk:
    """The writers of one export and what the pass learns on the way."""

    datasets: Datasets
    codebook: Codebook
    naming: Naming
    sinks: Sinks
    writers: Writers
    agg: Aggregates
    redactor: Redactor
    ballots: Ballots
    progress: Progress
    library: Library
    scopes: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    pseudonyms: set[str] = field(default_factory=set)
    consent_versions: set[str] = field(default_factory=set)
    cards_shown: set[tuple[str, str]] = field(default_factory=set)
    quoted: int = 0
    # The open session's replies since its last step or card, on their way to the writers.
    _run: Replies = field(default_factory=Replies)
    # Replies to prompts, for the themes (``exporters.themes``), as this export shows them.
    open_replies: OpenReplies = field(default_factory=OpenReplies)
    _scope_sets: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)
    # The prompt text and language of each (content version, script, step), looked up once.
    _prompts: dict[tuple[str | None, str, str], tuple[str | None, str | None]] = field(
        default_factory=dict
    )
    _steps: dict[tuple[str | None, str, str], Step | None] = field(default_factory=dict)

    async def participants(self, cycle: str | None) -> None:
        """Consents: the scope map every later row is checked against, and the cases."""
        cases: dict[str, dict[str, Value]] = {}
        async for row in self.datasets.participants(cycle):
            person = self.naming.pseudonym(row.person)
            group = self.naming.group(row.group)
            # Few distinct scope sets exist; sharing them keeps a big cycle's map small.
            self.scopes[(person, group)] = self._scope_sets.setdefault(row.scopes, row.scopes)
            self.consent_versions.add(row.consent_version)
            self.agg.consent(group, row.scopes)
            if self.naming.public:
                continue
            returning = person in self.agg.returning_people
            self.pseudonyms.add(person)
            self.sinks.add(
                "participants",
                (
                    person,
                    group,
                    *(scope in row.scopes for scope in SCOPES),
                    row.consent_version,
                    row.text_hash,
                    row.given_at,
                    returning,
                ),
            )
            case = cases.setdefault(person, {"groups": group, "returning": returning})
            if group not in str(case["groups"]).split(";"):
                case["groups"] = f"{case['groups']};{group}"
            for scope in SCOPES:
                case[scope] = bool(case.get(scope)) or scope in row.scopes
        if not self.naming.public:
            await self._profiles(cases)
        self.writers.cases(cases)

    async def _profiles(self, cases: dict[str, dict[str, Value]]) -> None:
        # Profile answers belong to the person, not the group: agreeing to 'profile' in any
        # group of this export lets them through, and they become variables of the case.
        agreed = {person for (person, _), scopes in self.scopes.items() if Scope.PROFILE in scopes}
        async for row in self.datasets.profile_answers():
            person = self.naming.pseudonym(row.person)
            if person not in agreed:
                continue
            self.sinks.add(
                "profile_answers", (person, row.question_id, row.answer, row.answered_at)
            )
            if row.answer is not None:
                cases[person][f"profile: {row.question_id}"] = row.answer

    async def sessions(
        self,
        cycle: str | None,
        plan: Sequence[
            tuple[SessionRow, Sequence[tuple[StepVisitRow, int | None]], Sequence[CardExposureRow]]
        ],
    ) -> None:
        """Every session in turn: its rows, transcript and source, with its replies."""
        # Replies come a page at a time (each session's together, in plan order), redacted a
        # page at once; the loop over a page is plain Python, which matters at a million.
        pages = aiter(self.datasets.responses([session for session, _, _ in plan]))
        page, texts = await self._page(pages)
        at = 0
        for session, visits, cards in plan:
            group = self.naming.group(session.group)
            events = self._open(session, visits, cards)
            pending = next(events, None)
            while True:
                if at == len(page):
                    (page, texts), at = await self._page(pages), 0
                if not page or page[at].session_id != session.session_id:
                    break
                reply = page[at]
                while pending is not None and pending[0] <= reply.posted_at:
                    self._event(session, pending[2])
                    pending = next(events, None)
                self._reply(reply, group, texts[at])
                at += 1
            while pending is not None:
                self._event(session, pending[2])
                pending = next(events, None)
            self._replies()
            self.writers.end_session()
        if at < len(page):
            raise RuntimeError("replies and sessions came in different orders")

    async def _page(
        self, pages: AsyncIterator[list[ResponseRow]]
    ) -> tuple[list[ResponseRow], list[tuple[str, int] | None]]:
        """The next page of replies, and each one's redacted text (None: not exported)."""
        self._replies()
        page: list[ResponseRow] = await anext(pages, [])
        shown = [self._shown(reply) for reply in page]
        chosen = [r.text for r, show in zip(page, shown, strict=True) if show]
        texts, found = self.redactor.column(pa.array(chosen, pa.string()))
        redacted = zip(texts.to_pylist(), found.to_pylist(), strict=True)
        return page, [next(redacted) if show else None for show in shown]

    def _shown(self, reply: ResponseRow) -> bool:
        """Whether the reply's words are exported: always, but in public only with 'quote'."""
        if not self.naming.public:
            return True
        person, group = self.naming.pseudonym(reply.person), self.naming.group(reply.group)
        return Scope.QUOTE in self.scopes.get((person, group), frozenset())

    def _open(
        self,
        session: SessionRow,
        visits: Sequence[tuple[StepVisitRow, int | None]],
        cards: Sequence[CardExposureRow],
    ) -> Iterator[tuple[datetime, int, StepVisitRow | CardExposureRow]]:
        """Write a session's own rows, open its transcript and source; its events in order."""
        name = self.naming.session(session.session_id)
        group = self.naming.group(session.group)
        script = self.codebook.script(session.script_id, session.content_version)
        minutes = None
        if session.started_at and session.ended_at:
            minutes = round((session.ended_at - session.started_at).total_seconds() / 60)
        self.sinks.add(
            "sessions",
            (
                name,
                session.cycle_id,
                group,
                session.script_id,
                session.script_version,
                short(session.content_version),
                script.language if script else None,
                session.status,
                session.started_at,
                session.ended_at,
                minutes,
                len(visits),
            ),
        )
        self.writers.session(
            SessionPart(
                name,
                group,
                session.cycle_id,
                session.script_id,
                session.script_version,
                short(session.content_version),
                session.started_at,
                session.ended_at,
            )
        )
        for visit, spent in visits:
            step = self.codebook.at(session.script_id, visit.step_index, session.content_version)
            planned = step.minutes if step else None
            row = (name, step.id if step else "", visit.step_index + 1, visit.started_at)
            self.sinks.add("step_visits", (*row, spent, planned))
        for card in cards:
            found = self.codebook.card(card.card_id, session.content_version, self.library)
            self.cards_shown.add((card.card_id, card.card_version))
            self.sinks.add(
                "card_exposures",
                (
                    name,
                    group,
                    card.step_id,
                    card.card_id,
                    card.card_version,
                    found.title if found else None,
                    card.shown_at,
                ),
            )
        events: list[tuple[datetime, int, StepVisitRow | CardExposureRow]] = [
            (v.started_at, 0, v) for v, _ in visits
        ]
        events += [(c.shown_at, 1, c) for c in cards]
        return iter(sorted(events, key=lambda e: (e[0], e[1])))

    def _event(self, session: SessionRow, event: StepVisitRow | CardExposureRow) -> None:
        self._replies()
        if isinstance(event, StepVisitRow):
            step = self.codebook.at(session.script_id, event.step_index, session.content_version)
            step_id, text = (step.id, step.text) if step else ("?", "")
            self.writers.step(event.step_index + 1, step_id, text, event.started_at)
            return
        found = self.codebook.card(event.card_id, session.content_version, self.library)
        title = found.title if found else event.card_id
        self.writers.card(event.card_id, event.card_version, title, event.shown_at)

    def _replies(self) -> None:
        """Hand the replies gathered since the last step, card or page to the writers."""
        if self._run:
            self.writers.replies(self._run)
            self._run = Replies()

    def _reply(self, reply: ResponseRow, group: str, redacted: tuple[str, int] | None) -> None:
        self.progress.advance()
        person = self.naming.pseudonym(reply.person)
        key = (reply.script_id or "", reply.step_id)
        self.agg.reply(group, key, person, reply.posted_at.date())
        if redacted is None:
            return
        self.pseudonyms.add(person)
        text, found = redacted
        version = (reply.content_version, *key)
        if version not in self._steps:
            known = self.codebook.step(reply.script_id, reply.step_id, reply.content_version)
            self._steps[version] = known
        step = self._steps[version]
        prompt = self._prompts.get(version)
        if prompt is None:
            script = self.codebook.script(reply.script_id, reply.content_version)
            prompt = self._prompts[version] = (
                step.text if step else None,
                script.language if script else None,
            )
        speaker = self.naming.person(reply.person)
        public = self.naming.public
        row: tuple[object, ...] = (
            *(() if public else (reply.response_id,)),
            reply.cycle_id,
            group,
            self.naming.session(reply.session_id),
            reply.script_id,
            reply.script_version,
            short(reply.content_version),
            reply.step_id,
            *prompt,
            *(() if speaker is None else (speaker,)),
            text,
            found,
            reply.kind,
            reply.posted_at,
            reply.edited_at,
            *(() if public else (reply.message_id, reply.reply_to)),
        )
        self.sinks.add("responses", row)
        # A public source numbers its quotes in order: a reply id's gaps would show where
        # replies of people who did not agree to be quoted were.
        self.quoted += 1
        ref = self.quoted if public else reply.response_id
        run = self._run
        run.refs.append(ref)
        run.steps.append(key)
        run.speakers.append(speaker)
        run.texts.append(text)
        run.posted.append(reply.posted_at)
        run.edited.append(reply.edited_at is not None)
        if step is not None and step.kind == "prompt":
            agreed = Scope.QUOTE in self.scopes.get((person, group), frozenset())
            quotable = agreed and worth_quoting(step, text)
            self.open_replies.add(ref, person, text, quotable)

    async def votes(self, cycle: str | None) -> None:
        """Every vote: counted, and written where the profile has participant-level data."""
        casts = Casts()
        async for vote in self.datasets.votes(cycle):
            self.progress.advance()
            person = self.naming.pseudonym(vote.person)
            group = self.naming.group(vote.group)
            key = (vote.script_id or "", vote.step_id)
            version = vote.content_version
            merged = self.codebook.merged(vote.script_id, vote.step_id, version, vote.options)
            self.agg.vote(group, key, person, merged)
            coded = self.codebook.polis_vote(vote.script_id, vote.step_id, version, vote.options)
            cast = None if coded is None else self.ballots.cast(person, key, coded, vote.cast_at)
            if cast is not None and coded is not None:
                casts.voters.append(cast[0])
                casts.comments.append(cast[1])
                casts.votes.append(coded)
                casts.at.append(vote.cast_at)
                if len(casts) >= BATCH:
                    self.writers.casts(casts)
                    casts = Casts()
            if self.naming.public:
                continue
            step = self.codebook.step(vote.script_id, vote.step_id, version)
            choices = step.choices() if step else ()
            labels = [choices[n - 1] for n in vote.options if 0 < n <= len(choices)]
            self.sinks.add(
                "votes",
                (
                    vote.vote_id,
                    vote.cycle_id,
                    group,
                    vote.session_id,
                    vote.script_id,
                    vote.script_version,
                    short(version),
                    vote.step_id,
                    person,
                    ";".join(str(n) for n in vote.options),
                    ";".join(labels),
                    vote.cast_at,
                ),
            )
        self.writers.casts(casts)
