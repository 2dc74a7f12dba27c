"""Notes for the learning report: how the process itself went, drawn from how sessions ran."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.content.scopes import REQUIRED_SCOPE, Scope
from bot.texts import Catalogue
from exporters import aggregates as agg_
from exporters.aggregates import Aggregates
from exporters.charts import Hidden, shown
from exporters.codebook import Codebook
from exporters.disclosure import Disclosure, Key
from exporters.pseudonymise import Naming
from exporters.schema import ALL_GROUPS
from storage.dataset_records import SessionRow
from storage.direct import ReflectionRow


@dataclass(frozen=True)
class Words:
    """The catalogue in the report's language."""

    texts: Catalogue
    language: str = "en"

    def __call__(self, key: str, **params: object) -> str:
        """One message."""
        return self.texts.get(self.language, key, **params)

    def n(self, key: str, count: float) -> str:
        """A count with its noun, in the right plural ("1 session", "2 sessions")."""
        return self.texts.plural(self.language, key, count)


@dataclass(frozen=True)
class Reflection:
    """A facilitator's reflection on one session, each answer under its question."""

    where: str
    answers: tuple[tuple[str, str], ...]


def _minutes(session: SessionRow) -> float | None:
    if session.started_at is None or session.ended_at is None:
        return None
    return (session.ended_at - session.started_at).total_seconds() / 60


def notes(
    sessions: Sequence[SessionRow],
    steps_shown: Callable[[str], Collection[int]],
    codebook: Codebook,
    agg: Aggregates,
    disclosure: Disclosure,
    say: Words,
) -> list[str]:
    """Plain sentences about the cycle's sessions, most useful first.

    ``steps_shown`` gives the step numbers (from 0) a session, named by its id, showed.
    """
    labels = codebook.labels()
    ended = [s for s in sessions if s.status == "ended"]
    found = [
        say(
            "report.ran",
            sessions=say.n("report.sessions", len(sessions)),
            groups=say.n("report.groups", len({s.group for s in sessions})),
            ended=len(ended),
            open=len(sessions) - len(ended),
        )
    ]
    for script_id, script in codebook.scripts.items():
        lengths = [m for s in ended if s.script_id == script_id and (m := _minutes(s))]
        if lengths and script.estimated_minutes:
            found.append(
                say(
                    "report.script_time",
                    script=script.title,
                    minutes=say.n("report.minutes", round(statistics.median(lengths))),
                    planned=say.n("report.minutes", script.estimated_minutes),
                )
            )
    over = [
        (actual - planned, key, actual, planned)
        for key, actual, planned in agg.median_minutes()
        if actual is not None and planned and actual - planned >= max(2, planned / 4)
    ]
    for _, key, actual, planned in sorted(over, reverse=True)[:3]:
        found.append(
            say(
                "report.step_over",
                step=labels.get(key, key[1]),
                minutes=say.n("report.minutes", actual),
                planned=say.n("report.minutes", planned),
            )
        )
    found += _skipped(ended, steps_shown, codebook, say)
    shown_steps = {
        (s.script_id, shown_step.id)
        for s in sessions
        for n in steps_shown(s.session_id)
        if (shown_step := codebook.at(s.script_id, n, s.content_version)) is not None
    }
    answered = {k[1:] for k in agg.replies}
    for key, _, _ in codebook.keys():
        step = codebook.step(*key)
        quiet = key in shown_steps and key not in answered
        if step is not None and step.kind == "prompt" and quiet:
            found.append(say("report.quiet", step=labels[key]))
    quoted = disclosure.percent(
        agg_.consents(ALL_GROUPS, Scope.QUOTE), agg_.consents(ALL_GROUPS, REQUIRED_SCOPE), 0
    )
    if quoted is not None:
        found.append(say("report.quoted", percent=say.texts.percent(say.language, quoted / 100)))
    new, returning = disclosure.value(agg_.NEW), disclosure.value(agg_.RETURNING)
    if new is not None and returning is not None:
        found.append(
            say(
                "report.returning",
                returning=say.n("report.people", returning),
                new=say.n("report.people", new),
            )
        )
    return found


def _skipped(
    ended: Sequence[SessionRow],
    steps_shown: Callable[[str], Collection[int]],
    codebook: Codebook,
    say: Words,
) -> list[str]:
    """Steps passed over while a later one was shown, and sessions ended before the last step.

    A session that showed its group no step at all (a direct one) says nothing about steps.
    """
    labels = codebook.labels()
    skipped: Counter[tuple[str, str]] = Counter()
    early: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    for session in ended:
        shown = steps_shown(session.session_id)
        script = codebook.script(session.script_id, session.content_version)
        if not shown or script is None:
            continue
        ran[script.id] += 1
        last = max((n for n, step in enumerate(script.steps) if step.kind != "close"), default=0)
        early[script.id] += max(shown) < last
        for n, step in enumerate(script.steps[: max(shown)]):
            skipped[(script.id, step.id)] += n not in shown
    found = [
        say(
            "report.skipped",
            step=labels.get(key, key[1]),
            count=count,
            sessions=say.n("report.ended_sessions", ran[key[0]]),
        )
        for key, count in sorted(skipped.items())
        if count
    ]
    found += [
        say(
            "report.ended_early",
            count=count,
            sessions=say.n("report.ended_sessions", ran[script_id]),
            script=codebook.scripts[script_id].title,
        )
        for script_id, count in sorted(early.items())
        if count and script_id in codebook.scripts
    ]
    return found


def feedback_notes(codebook: Codebook, disclosure: Disclosure, say: Words) -> list[str]:
    """Participants' answers to each feedback question, all groups together."""
    found = []
    for step, question in codebook.feedback():
        keys = [agg_.votes(ALL_GROUPS, step, n) for n in range(1, len(question.choices()) + 1)]
        if not any(k in disclosure.counts for k in keys):
            continue
        answers = "; ".join(
            say("report.answer", label=label, count=shown(counted(disclosure, k, say), ""))
            for label, k in zip(question.choices(), keys, strict=True)
        )
        found.append(say("report.feedback", question=question.text, answers=answers))
    return found


def counted(disclosure: Disclosure, key: Key, say: Words) -> int | Hidden:
    """A count as the report shows it: the number, or how the policy describes it hidden."""
    value = disclosure.value(key)
    if value is not None:
        return value
    if disclosure.is_small(key):
        return Hidden(say("report.hidden_small", threshold=disclosure.threshold))
    return Hidden(say("report.hidden_withheld"))


def reflections(
    rows: Sequence[ReflectionRow], naming: Naming, names: Mapping[str, str], say: Words
) -> list[Reflection]:
    """Facilitators' (redacted) reflections, one per session; none in the public profile."""
    questions = [say(f"report.{q}") for q in ("went_well", "was_hard", "to_change")]
    found = []
    for r in rows if not naming.public else ():
        answers = tuple((q, text) for q, text in zip(questions, r.answers, strict=True) if text)
        if answers:
            group = naming.group(r.group)
            where = say(
                "report.reflection_on",
                session=naming.session(r.session_id),
                group=names.get(group, group),
            )
            found.append(Reflection(where, answers))
    return found
