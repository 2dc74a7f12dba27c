"""The streamed pass of an export: consents, then each session's replies, then votes.

What is read goes to every format (``exporters.writer``) in batches: table rows through the
sinks, each session's story, the Polis ballots; the profile decides what each may see.
"""

from __future__ import annotations

import ctypes
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.content.check import Library
from bot.content.scopes import SCOPES, Scope
from exporters.aggregates import Aggregates
from exporters.codebook import Codebook, short
from exporters.heard_card import worth_quoting
from exporters.polis import Ballots
from exporters.progress import Progress
from exporters.pseudonymise import Naming
from exporters.qdpx import Value
from exporters.redact import Redactor
from exporters.reply_page import ReplyPage, Steps, reply_page
from exporters.sink import BATCH, Sinks
from exporters.themes import OpenReplies
from exporters.writer import Casts, Replies, SessionPart, Writers
from storage._export import ReplyBatch
from storage.dataset_records import CardExposureRow, SessionRow, StepVisitRow
from storage.datasets import Datasets
from storage.records import VoteRow


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
    # Each (script, step, version, answers) voted: see ``_coded``.
    _votes_coded: dict[
        tuple[str | None, str, str | None, tuple[int, ...]],
        tuple[tuple[int, ...], int | None, str, str],
    ] = field(default_factory=dict)
    # Each (content version, script, step) replies answered, looked up once.
    _steps: Steps = field(init=False)

    def __post_init__(self) -> None:
        self._steps = Steps(self.codebook, {})

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
        sessions: Sequence[SessionRow],
        plan: Iterable[
            tuple[SessionRow, Sequence[tuple[StepVisitRow, int | None]], Sequence[CardExposureRow]]
        ],
        pages: AsyncIterable[ReplyBatch],
    ) -> None:
        """Every session in turn (``plan``: ``sessions``, each with its visits and cards).

        ``pages``: the sessions' replies as ``Datasets.reply_batches`` gives them.
        """
        # Replies come a page at a time as Arrow columns (each session's together, in plan
        # order): the responses table's rows are made from the columns, and only what the
        # transcripts, sources and counts need becomes Python, a page's column at a time.
        known = {session.session_id: session for session in sessions}
        batches = aiter(pages)
        page = await self._page(batches, known)
        at = 0
        for session, visits, cards in plan:
            events = self._open(session, visits, cards)
            pending = next(events, None)
            while True:
                if page is not None and at == len(page):
                    page, at = await self._page(batches, known), 0
                if page is None or page.sessions[at] != session.session_id:
                    break
                end = page.end_of_session(at)
                while pending is not None:
                    # Each event goes before the first reply posted at or after it.
                    next_at = page.first_from(at, end, pending[0])
                    if next_at == end:
                        break
                    self._run_of(page, at, next_at)
                    at = next_at
                    self._event(session, pending[2])
                    pending = next(events, None)
                self._run_of(page, at, end)
                at = end
            while pending is not None:
                self._event(session, pending[2])
                pending = next(events, None)
            self._replies()
            self.writers.end_session()
        if page is not None and at < len(page):
            raise RuntimeError("replies and sessions came in different orders")

    async def _page(
        self, batches: AsyncIterator[ReplyBatch], known: Mapping[str, SessionRow]
    ) -> ReplyPage | None:
        """The next page of replies (None after the last), counted, its table rows written."""
        self._replies()
        batch = await anext(batches, None)
        if batch is None or not batch.columns.num_rows:
            return None
        page = reply_page(
            batch,
            known,
            self.naming,
            self.redactor,
            self._steps,
            self._quotes,
            self.quoted,
            self.sinks.schema("responses"),
        )
        self.progress.advance(len(page))
        self.quoted += len(page.refs)
        self.sinks.add_batch("responses", page.table)
        self.agg.replies_of(page.groups, page.steps, page.people, page.days)
        self.pseudonyms.update(page.people[i] for i in page.shown)
        self._answers(page)
        return page

    def _quotes(self, person: str, group: str) -> bool:
        """Whether a person agreed, in a group, to have their words quoted."""
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

    def _run_of(self, page: ReplyPage, at: int, end: int) -> None:
        """Add the shown replies of rows ``at:end`` of a page to the open run."""
        first, last = int(page.shown_before[at]), int(page.shown_before[end])
        if first == last:
            return
        rows = page.shown[first:last].tolist()
        run = self._run
        run.refs += page.refs[first:last]
        run.steps += [page.steps[i] for i in rows]
        run.speakers += page.speakers[first:last]
        run.texts += page.texts[first:last]
        run.posted += page.posted_at[first:last]
        run.edited += page.edited[first:last]

    def _answers(self, page: ReplyPage) -> None:
        """The page's shown replies to prompts, for the themes, in the order the walk writes them.

        A page's runs (``_run_of``) take its shown replies in order, each once, so adding the
        whole page at once gives the themes the order the runs would.
        """
        steps = page.step_rows
        at = [n for n, step in enumerate(steps) if step is not None and step.kind == "prompt"]
        if not at:
            return
        rows = page.shown[at].tolist()
        people = [page.people[row] for row in rows]
        texts = [page.texts[n] for n in at]
        quotable = [
            self._quotes(person, page.groups[row]) and worth_quoting(steps[n], text)
            for n, row, person, text in zip(at, rows, people, texts, strict=True)
        ]
        self.open_replies.extend([page.refs[n] for n in at], people, texts, quotable)

    async def votes(self, cycle: str | None) -> None:
        """Every vote: counted, and written where the profile has participant-level data."""
        casts = Casts()
        async for vote in self.datasets.votes(cycle):
            self.progress.advance()
            person = self.naming.pseudonym(vote.person)
            group = self.naming.group(vote.group)
            key = (vote.script_id or "", vote.step_id)
            merged, coded, numbers, labels = self._coded(vote)
            self.agg.vote(group, key, person, merged)
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
            self.sinks.add(
                "votes",
                (
                    vote.vote_id,
                    vote.cycle_id,
                    group,
                    vote.session_id,
                    vote.script_id,
                    vote.script_version,
                    short(vote.content_version),
                    vote.step_id,
                    person,
                    numbers,
                    labels,
                    vote.cast_at,
                ),
            )
        self.writers.casts(casts)

    def _coded(self, vote: VoteRow) -> tuple[tuple[int, ...], int | None, str, str]:
        """A vote's merged answers, Polis vote, and the votes table's answers and labels.

        Worked out once for each (script, step, version, answers): few are distinct.
        """
        key = (vote.script_id, vote.step_id, vote.content_version, vote.options)
        found = self._votes_coded.get(key)
        if found is None:
            script_id, step_id, version, options = key
            step = self.codebook.step(script_id, step_id, version)
            choices = step.choices() if step else ()
            found = self._votes_coded[key] = (
                self.codebook.merged(script_id, step_id, version, options),
                self.codebook.polis_vote(script_id, step_id, version, options),
                ";".join(str(n) for n in options),
                ";".join(choices[n - 1] for n in options if 0 < n <= len(choices)),
            )
        return found


def give_back_freed_memory() -> None:
    """Hand the C heap's freed pages back to the system (glibc's ``malloc_trim``; elsewhere none).

    The walk's pages of replies, read in the database driver's thread and made into rows and
    files in the export's, leave freed memory strewn through both threads' heaps, where glibc
    keeps it resident: 40 to 60 MB at 1,000,000 replies, which the rest of the export then
    carried on top of its own.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # not glibc
        return
    trim(0)
