"""The content versions an export's sessions ran: the codebook tables, and the labels of answers.

Every answer is labelled from the version its session (or self-paced dialogue) ran, as the
database kept it, never from the files as they are now. Where one script ran in several
versions, ``steps`` and ``step_options`` list each version's rows (told apart by
``content_version``); counts, charts and Polis statements take a step's wording from the newest
version that has it, and count each answer under the label its person saw: an answer's number
in those merged lists is its place in the newest version, then answers only older ones offered.
Sessions from before versions were kept fall back to the files' current version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.content.check import Library
from bot.content.models import QUESTION_SEPARATOR, Card, Script, Step
from bot.content.version import Version
from exporters.polis import vote_coding

StepKey = tuple[str, str]
# How many hex digits of a version's SHA-256 the tables show (manifest.json has them whole).
SHORT = 12


def short(digest: str | None) -> str | None:
    """A content version as the tables show it."""
    return digest[:SHORT] if digest else None


@dataclass(frozen=True)
class Codebook:
    """Every content version the export's answers were given on, oldest first used first."""

    versions: dict[str, Version]
    # Per script id, the digest of its newest version that ran, and of the files' version
    # standing in for sessions that kept none.
    newest: dict[str, str]
    current: dict[str, str]
    # Each script's ballots, found once: every vote of a big cycle asks for them.
    _ballot_cache: dict[str | None, dict[str, list[Step]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def of(
        cls,
        library: Library,
        ran: Iterable[tuple[str | None, str | None]],
        kept: Mapping[str, Version],
    ) -> Codebook:
        """The codebook of the (script id, content version) pairs that ran.

        ``kept`` holds the versions the database kept, oldest first used first; a pair whose
        version was not kept takes the files' current version of its script, if there is one.
        """
        files: dict[str, Version] = {}
        for script_id, digest in ran:
            if script_id is None or (digest or "") in kept or script_id in files:
                continue
            script = library.scripts.get(script_id)
            if script is not None:
                files[script_id] = library.version(script)
        versions = {v.digest: v for v in files.values()} | dict(kept)
        newest = {v.script.id: v.digest for v in versions.values()}
        current = {s: v.digest for s, v in files.items()}
        return cls(versions, dict(sorted(newest.items())), current)

    @property
    def scripts(self) -> dict[str, Script]:
        """The newest version that ran of each script, by id."""
        return {s: self.versions[d].script for s, d in self.newest.items()}

    def version(self, script_id: str | None, digest: str | None) -> Version | None:
        """The version an answer was given on (``digest`` None: the newest of the script)."""
        found = self.versions.get(digest or "")
        if found is None:
            fallback = self.current.get(script_id or "") or self.newest.get(script_id or "")
            found = self.versions.get(fallback or "")
        return found if found is not None and found.script.id == script_id else None

    def script(self, script_id: str | None, digest: str | None) -> Script | None:
        """The script as a version ran it."""
        found = self.version(script_id, digest)
        return found.script if found else None

    def step(self, script_id: str | None, step_id: str, digest: str | None = None) -> Step | None:
        """A step or feedback question (by vote id) as a version showed it."""
        script = self.script(script_id, digest)
        if script is None:
            return None
        index = script.index_of(step_id)
        return script.steps[index] if index is not None else script.ballot(step_id)

    def at(self, script_id: str | None, index: int, digest: str | None = None) -> Step | None:
        """The step at a position of a script as a version ran it, if there is one."""
        script = self.script(script_id, digest)
        if script is None or not 0 <= index < len(script.steps):
            return None
        return script.steps[index]

    def card(self, card_id: str, digest: str | None, library: Library) -> Card | None:
        """A card as a version showed it, else as the files have it."""
        found = self.versions.get(digest or "")
        card = found.cards.get(card_id) if found else None
        return card or library.cards.get(card_id)

    def _newest_first(self, script_id: str) -> list[Script]:
        newest = self.newest[script_id]
        older = [v.script for d, v in reversed(self.versions.items()) if d != newest]
        return [self.versions[newest].script, *(s for s in older if s.id == script_id)]

    def _merged_steps(self, script_id: str) -> list[tuple[int, Step]]:
        """Each step id once, with its position: the newest version's, then older ones' own."""
        seen: dict[str, tuple[int, Step]] = {}
        for script in self._newest_first(script_id):
            for n, step in enumerate(script.steps, 1):
                seen.setdefault(step.id, (n, step))
        return list(seen.values())

    def keys(self) -> list[tuple[StepKey, int, int | None]]:
        """Every (script, step) with its position (1-based) and planned minutes."""
        return [
            ((s, step.id), n, step.minutes)
            for s in self.newest
            for n, step in self._merged_steps(s)
        ]

    def step_texts(self, script_id: str) -> list[tuple[str, str]]:
        """Each step id of a script with its newest text, in order."""
        return [(step.id, step.text) for _, step in self._merged_steps(script_id)]

    def steps_rows(self) -> list[tuple[object, ...]]:
        """Rows of the ``steps`` table: every step of every version that ran."""
        return [
            (
                v.script.id,
                v.script.version,
                short(v.digest),
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
            for v in self._in_order()
            for n, step in _all(v.script)
        ]

    def option_rows(self) -> list[tuple[object, ...]]:
        """Rows of the ``step_options`` table: every answer of every version that ran."""
        return [
            (v.script.id, v.script.version, short(v.digest), step.id, n, label)
            for v in self._in_order()
            for _, step in _all(v.script)
            for n, label in enumerate(step.choices(), 1)
        ]

    def _in_order(self) -> list[Version]:
        return sorted(self.versions.values(), key=lambda v: v.script.id)

    def _ballots(self, script_id: str) -> dict[str, list[Step]]:
        """Each ballot id of a script with its versions, newest first."""
        cached = self._ballot_cache.get(script_id)
        if cached is not None:
            return cached
        found = self._ballot_cache[script_id] = {}
        for script in self._newest_first(script_id):
            for step in script.steps:
                for ballot in step.ballots():
                    found.setdefault(ballot.id, []).append(ballot)
        return found

    def choices(self) -> list[tuple[StepKey, tuple[str, ...]]]:
        """Every choice step (and feedback question) with its answers, merged across versions."""
        return [
            ((s, ballot_id), _merged(versions))
            for s in self.newest
            for ballot_id, versions in self._ballots(s).items()
        ]

    def merged(
        self, script_id: str | None, ballot_id: str, digest: str | None, options: Iterable[int]
    ) -> tuple[int, ...]:
        """Answers as their numbers in ``choices()``, found by the labels the person saw."""
        shown = self.step(script_id, ballot_id, digest)
        versions = self._ballots(script_id).get(ballot_id) if script_id in self.newest else None
        if shown is None or not versions:
            return tuple(options)
        labels = shown.choices()
        merged = _merged(versions)
        return tuple(
            merged.index(labels[n - 1]) + 1 if 0 < n <= len(labels) else n for n in options
        )

    def ballots(self) -> dict[StepKey, Step]:
        """Every choice step (and feedback question) by (script, step), answers merged."""
        return {
            (s, ballot_id): versions[0].model_copy(update={"options": _merged(versions)})
            for s in self.newest
            for ballot_id, versions in self._ballots(s).items()
        }

    def feedback(self) -> list[tuple[StepKey, Step]]:
        """Every feedback question, as a choice step with its merged answers."""
        return [
            ((s, ballot_id), versions[0].model_copy(update={"options": _merged(versions)}))
            for s in self.newest
            for ballot_id, versions in self._ballots(s).items()
            if QUESTION_SEPARATOR in ballot_id
        ]

    def statements(self) -> list[tuple[StepKey, str]]:
        """The agree/disagree/pass steps, each with its newest wording."""
        found = []
        for s in self.newest:
            for step_id, versions in self._ballots(s).items():
                coded = (v for v in versions if vote_coding(v) is not None)
                step = next(coded, None) if QUESTION_SEPARATOR not in step_id else None
                if step is not None:
                    found.append(((s, step_id), step.text))
        return found

    def polis_vote(
        self, script_id: str | None, step_id: str, digest: str | None, options: Iterable[int]
    ) -> int | None:
        """An answer as a Polis vote (1, -1, 0), by the options its person saw; else None."""
        step = self.step(script_id, step_id, digest)
        coding = vote_coding(step) if step is not None else None
        values = [coding[o] for o in options if o in coding] if coding else []
        return values[0] if len(values) == 1 else None

    def ran(self, library: Library) -> list[dict[str, object]]:
        """Each version for the manifest, and whether the files still hold it."""
        found: list[dict[str, object]] = []
        for v in self._in_order():
            script = library.scripts.get(v.script.id)
            now = library.version(script) if script else None
            found.append(
                {
                    "script_id": v.script.id,
                    "version_run": v.script.version,
                    "content_version": v.digest,
                    # False: sessions from before versions were kept, labelled from the files.
                    "content_kept": v.digest not in self.current.values(),
                    "version_in_content": now.script.version if now else None,
                    "same_as_content_now": now is not None and now.digest == v.digest,
                }
            )
        return found

    def labels(self) -> dict[StepKey, str]:
        """A label per step for charts and notes: its position and (newest) text, shortened."""
        return {
            (s, step.id): f"{n}. {shorten(step.text)}"
            for s in self.newest
            for n, step in self._merged_steps(s)
        }

    def question(self, key: StepKey) -> str:
        """The newest wording of a step or feedback question, for a chart's title."""
        step = self.step(*key)
        return step.text if step is not None else key[1]


def shorten(text: str, limit: int = 90) -> str:
    """The first line of ``text``, cut at a word before ``limit`` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + "…"


def _merged(versions: list[Step]) -> tuple[str, ...]:
    """A ballot's answers: the newest version's in order, then those only older ones offered."""
    return tuple(dict.fromkeys(label for v in versions for label in v.choices()))


def _all(script: Script) -> list[tuple[int, Step]]:
    """Every step with its position, each feedback question after its step at the same one."""
    return [
        (n, each)
        for n, step in enumerate(script.steps, 1)
        for each in (step, *(b for b in step.ballots() if b.id != step.id))
    ]
