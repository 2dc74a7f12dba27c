"""The scripts an export's sessions ran, as the codebook tables and lookups the writers share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.content.check import Library
from bot.content.models import Script, Step
from exporters.polis import vote_coding

StepKey = tuple[str, str]


@dataclass(frozen=True)
class Codebook:
    """The steps of the scripts used, by (script id, step id), from the content at export time."""

    scripts: dict[str, Script]
    by_key: dict[StepKey, Step] = field(default_factory=dict)

    @classmethod
    def of(cls, library: Library, script_ids: Iterable[str | None]) -> Codebook:
        """The codebook of the scripts named (ids no longer in the content are skipped)."""
        wanted = sorted({s for s in script_ids if s is not None and s in library.scripts})
        scripts = {s: library.scripts[s] for s in wanted}
        return cls(
            scripts, {(s.id, step.id): step for s in scripts.values() for _, step in _all(s)}
        )

    def step(self, script_id: str | None, step_id: str) -> Step | None:
        """A step, if its script is known and still has it."""
        return self.by_key.get((script_id or "", step_id))

    def at(self, script_id: str | None, index: int) -> Step | None:
        """The step at a position of a script, if there is one."""
        script = self.scripts.get(script_id or "")
        if script is None or not 0 <= index < len(script.steps):
            return None
        return script.steps[index]

    def keys(self) -> list[tuple[StepKey, int, int | None]]:
        """Every (script, step) with its position (1-based) and planned minutes."""
        return [
            ((s.id, step.id), n, step.minutes)
            for s in self.scripts.values()
            for n, step in enumerate(s.steps, 1)
        ]

    def steps_rows(self) -> list[tuple[object, ...]]:
        """Rows of the ``steps`` table."""
        return [
            (
                s.id,
                s.version,
                step.id,
                n,
                step.kind,
                step.text,
                step.minutes,
                step.multiple,
                len(step.choices()),
                ";".join(step.cards),
                vote_coding(step) is not None,
            )
            for s in self.scripts.values()
            for n, step in _all(s)
        ]

    def option_rows(self) -> list[tuple[object, ...]]:
        """Rows of the ``step_options`` table."""
        return [
            (s.id, s.version, step.id, n, label)
            for s in self.scripts.values()
            for _, step in _all(s)
            for n, label in enumerate(step.choices(), 1)
        ]

    def choices(self) -> list[tuple[StepKey, tuple[str, ...]]]:
        """Every choice step (and feedback question) with its answers."""
        return [
            ((s.id, ballot.id), ballot.choices())
            for s in self.scripts.values()
            for step in s.steps
            for ballot in step.ballots()
        ]

    def ballots(self) -> dict[StepKey, Step]:
        """Every choice step (and feedback question) by (script, step)."""
        return {
            (s.id, ballot.id): ballot
            for s in self.scripts.values()
            for step in s.steps
            for ballot in step.ballots()
        }

    def feedback(self) -> list[tuple[StepKey, Step]]:
        """Every feedback question, as a choice step, by (script, 'STEP.QUESTION')."""
        return [
            ((s.id, ballot.id), ballot)
            for s in self.scripts.values()
            for step in s.steps
            if step.kind == "feedback"
            for ballot in step.ballots()
        ]

    def statements(self) -> list[tuple[StepKey, str, dict[int, int]]]:
        """The agree/disagree/pass steps, with their Polis vote coding."""
        found = []
        for s in self.scripts.values():
            for step in s.steps:
                coding = vote_coding(step)
                if coding is not None:
                    found.append(((s.id, step.id), step.text, coding))
        return found

    def labels(self) -> dict[StepKey, str]:
        """A short label per step for charts: '3. step-id'."""
        return {key: f"{n}. {key[1]}" for key, n, _ in self.keys()}


def _all(script: Script) -> list[tuple[int, Step]]:
    """Every step with its position, each feedback question after its step at the same one."""
    return [
        (n, each)
        for n, step in enumerate(script.steps, 1)
        for each in (step, *(b for b in step.ballots() if b.id != step.id))
    ]
