"""Notes for the learning report: how the process itself went, drawn from how sessions ran."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence

from exporters import aggregates as agg_
from exporters.aggregates import Aggregates
from exporters.codebook import Codebook
from exporters.disclosure import Disclosure
from exporters.pseudonymise import Naming
from exporters.schema import ALL_GROUPS
from storage.dataset_records import SessionRow, StepVisitRow
from storage.direct import ReflectionRow


def _minutes(session: SessionRow) -> float | None:
    if session.started_at is None or session.ended_at is None:
        return None
    return (session.ended_at - session.started_at).total_seconds() / 60


def notes(
    sessions: Sequence[SessionRow],
    visits: Mapping[str, Sequence[StepVisitRow]],
    codebook: Codebook,
    agg: Aggregates,
    disclosure: Disclosure,
) -> list[str]:
    """Plain sentences about the cycle's sessions, most useful first."""
    found: list[str] = []
    ended = [s for s in sessions if s.status == "ended"]
    groups = len({s.group for s in sessions})
    found.append(
        f"{len(sessions)} sessions ran in {groups} groups; {len(ended)} were ended by a "
        f"facilitator and {len(sessions) - len(ended)} were left running, paused or unstarted."
    )
    for script_id, script in codebook.scripts.items():
        lengths = [m for s in ended if s.script_id == script_id and (m := _minutes(s))]
        if lengths:
            found.append(
                f"Sessions of '{script_id}' took a median of {statistics.median(lengths):.0f} "
                f"minutes against {script.estimated_minutes} planned."
            )
    over = [
        (actual - planned, key, actual, planned)
        for key, actual, planned in agg.median_minutes()
        if actual is not None and planned and actual - planned >= max(2, planned / 4)
    ]
    for _, key, actual, planned in sorted(over, reverse=True)[:3]:
        found.append(
            f"Step '{key[1]}' ran over: a median of {actual:g} minutes against {planned} planned."
        )
    skipped: Counter[tuple[str, str]] = Counter()
    for session in ended:
        shown = {v.step_index for v in visits.get(session.session_id, ())}
        ran = codebook.script(session.script_id, session.content_version)
        for n, each in enumerate(ran.steps if ran else ()):
            if n not in shown:
                skipped[(session.script_id or "", each.id)] += 1
    for (script_id, step_id), count in sorted(skipped.items()):
        total = sum(1 for s in ended if s.script_id == script_id)
        found.append(f"Step '{step_id}' was skipped in {count} of {total} ended sessions.")
    shown_steps = {
        (s.script_id, shown_step.id)
        for s in sessions
        for v in visits.get(s.session_id, ())
        if (shown_step := codebook.at(s.script_id, v.step_index, s.content_version)) is not None
    }
    answered = {k[1:] for k in agg.replies}
    for (script_id, step_id), _, _ in codebook.keys():
        step = codebook.step(script_id, step_id)
        quiet = (script_id, step_id) in shown_steps and (script_id, step_id) not in answered
        if step is not None and step.kind == "prompt" and quiet:
            found.append(f"Prompt '{step_id}' was shown but drew no stored replies.")
    quoted = disclosure.percent(
        agg_.consents(ALL_GROUPS, "quote"), agg_.consents(ALL_GROUPS, "participate"), 0
    )
    if quoted is not None:
        found.append(f"{quoted:.0f}% of the people taking part agreed to be quoted.")
    new, returning = disclosure.value(agg_.NEW), disclosure.value(agg_.RETURNING)
    if new is not None and returning is not None:
        found.append(f"{returning} people came back from an earlier cycle; {new} were new.")
    return found


def feedback_notes(codebook: Codebook, disclosure: Disclosure) -> list[str]:
    """Participants' answers to each feedback question, all groups together."""
    found = []
    for step, question in codebook.feedback():
        keys = [agg_.votes(ALL_GROUPS, step, n) for n in range(1, len(question.choices()) + 1)]
        if not any(k in disclosure.counts for k in keys):
            continue
        counts = [
            (label, disclosure.value(k)) for label, k in zip(question.choices(), keys, strict=True)
        ]
        shown = "; ".join(
            f"{label} {count if count is not None else 'withheld'}" for label, count in counts
        )
        found.append(f"Feedback, '{question.text}': {shown}.")
    return found


def reflection_notes(reflections: Sequence[ReflectionRow], naming: Naming) -> list[str]:
    """Facilitators' (redacted) reflections, one sentence each; none in the public profile."""
    found = []
    for r in reflections if not naming.public else ():
        labels = ("went well", "was hard", "to change")
        parts = [f"{label}: {text}" for label, text in zip(labels, r.answers, strict=True) if text]
        if parts:
            where = f"session {naming.session(r.session_id)} ({naming.group(r.group)})"
            found.append(f"Facilitator's reflection on {where}: " + "; ".join(parts) + ".")
    return found
