"""Pydantic models of the content staff write: scripts, steps, resource cards, consent text."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Re-exported: the scopes are content (the consent text describes each), kept in their module.
from bot.content.scopes import REQUIRED_SCOPE as REQUIRED_SCOPE
from bot.content.scopes import SCOPES as SCOPES
from bot.content.scopes import Scope

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64),
    Field(description="lower-case letters, digits and dashes"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
StepKind = Literal["message", "card", "prompt", "choice", "feedback", "break", "close"]
# A feedback question's answers are stored as votes on the step id 'STEP.QUESTION'.
QUESTION_SEPARATOR = "."


class Strict(BaseModel):
    """Base for content models: unknown fields are errors, values are immutable.

    Each model's validator is built when the model is first used, not when it is declared: a
    bot starting builds those of the files it reads (a step's, nested in a script's, within
    the script's), not those of the translations, read once its console is ready.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Scale(Strict):
    """A numeric scale such as 1-5, with labels for its ends."""

    min: int = 1
    max: int = 5
    min_label: str = ""
    max_label: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if not 2 <= self.max - self.min + 1 <= 11:
            raise ValueError("a scale needs between 2 and 11 points, with min below max")
        return self


class Question(Strict):
    """One question of a feedback step, answered with one of its options (stored as a vote)."""

    id: Slug
    text: Text
    options: tuple[Text, ...] = Field(min_length=2)


class Step(Strict):
    """One step of a deliberation script."""

    id: Slug
    kind: StepKind
    text: Text
    facilitator_notes: str = ""
    minutes: int | None = Field(default=None, ge=1, le=240)
    cards: tuple[Slug, ...] = ()
    options: tuple[Text, ...] = ()
    multiple: bool = False
    scale: Scale | None = None
    auto_advance: bool = False
    # Who sees a choice step's live tally: the facilitator (privately) or the whole group.
    tally: Literal["facilitator", "group"] = "facilitator"
    # A feedback step's questions (did you feel heard...), each answered like a choice.
    questions: tuple[Question, ...] = ()
    # Self-paced use, by a resident alone in a private chat: whether the step is offered, its
    # own wording there ('text' otherwise), and what "tell me more" adds (cards show in full).
    self_paced: bool = False
    self_paced_text: str = ""
    self_paced_more: str = ""

    @model_validator(mode="after")
    def _fits_kind(self) -> Step:
        if (self.self_paced_text or self.self_paced_more) and not self.self_paced:
            raise ValueError(
                "'self_paced_text' and 'self_paced_more' need 'self_paced = true' on the step"
            )
        if self.self_paced and self.kind == "break":
            raise ValueError("a break is for groups: remove 'self_paced' from it")
        if self.kind == "feedback":
            if not self.questions:
                raise ValueError("a feedback step needs 'questions', each with id, text, options")
            ids = [q.id for q in self.questions]
            if len(set(ids)) != len(ids):
                raise ValueError("each question of a feedback step needs its own id")
        elif self.questions:
            raise ValueError(f"'questions' belong on feedback steps, not on a {self.kind} step")
        if self.auto_advance and self.minutes is None:
            raise ValueError("'auto_advance' needs 'minutes': how long before the step moves on")
        if self.kind == "card" and not self.cards:
            raise ValueError("a card step needs 'cards', a list of card ids to show")
        if self.kind != "card" and self.cards:
            raise ValueError(f"'cards' belongs on card steps, not on a {self.kind} step")
        if self.kind == "choice":
            if bool(self.options) == bool(self.scale):
                raise ValueError("a choice step needs either 'options' (two or more) or 'scale'")
            if self.options and len(self.options) < 2:
                raise ValueError("a choice step needs at least two options")
            if self.scale and self.multiple:
                raise ValueError("a scale takes one answer: remove 'multiple'")
        elif self.options or self.scale or self.multiple or self.tally != "facilitator":
            raise ValueError(
                "'options', 'scale', 'multiple' and 'tally' belong on choice steps only"
            )
        return self

    def choices(self) -> tuple[str, ...]:
        """The numbered answers of a choice step (a scale becomes its points)."""
        if self.scale is None:
            return self.options
        points = range(self.scale.min, self.scale.max + 1)
        labels = {self.scale.min: self.scale.min_label, self.scale.max: self.scale.max_label}
        return tuple(f"{n} {labels[n]}".strip() if labels.get(n) else str(n) for n in points)

    def ballots(self) -> tuple[Step, ...]:
        """What people answer at this step, each as a choice step.

        A choice step is its own ballot; each question of a feedback step is one, with the id
        'STEP.QUESTION' (a dot no step id has). Other steps ask for no answer.
        """
        if self.kind == "choice":
            return (self,)
        return tuple(
            # Built without validation: the dotted id is deliberately not a step id.
            Step.model_construct(
                id=f"{self.id}{QUESTION_SEPARATOR}{q.id}",
                kind="choice",
                text=q.text,
                options=q.options,
            )
            for q in self.questions
        )


class Script(Strict):
    """A versioned deliberation script: ordered steps a facilitator walks a group through."""

    id: Slug
    version: Text
    title: Text
    language: Slug
    estimated_minutes: int = Field(ge=1, le=600)
    description: str = ""
    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_steps(self) -> Script:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id '{step.id}' is used twice; step ids must be unique")
            seen.add(step.id)
        return self

    def index_of(self, step_id: str) -> int | None:
        """The position of a step by id, or None."""
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), None)

    def ballot(self, ballot_id: str) -> Step | None:
        """A choice step or a feedback question (as a choice step) by its vote id, or None."""
        step_id = ballot_id.partition(QUESTION_SEPARATOR)[0]
        index = self.index_of(step_id)
        if index is None:
            return None
        return next((b for b in self.steps[index].ballots() if b.id == ballot_id), None)


class Source(Strict):
    """Where a card's facts come from."""

    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


class Image(Strict):
    """A picture on a card, with the alt text screen readers need."""

    path: Text
    alt: Text


class Card(Strict):
    """A resource card: a short, sourced, balanced explainer shown during a session."""

    id: Slug
    version: Text = "1"
    title: Text
    summary: Text
    language: Slug
    sources: tuple[Source, ...] = ()
    cycle: Slug | None = Field(
        default=None, description="for a 'what we heard' card: the cycle whose replies it reports"
    )
    image: Image | None = None
    body: Text

    @model_validator(mode="after")
    def _sourced(self) -> Card:
        # A "what we heard" card's source is the cycle's own data, named by 'cycle'.
        if not self.sources and self.cycle is None:
            raise ValueError("a card needs 'sources' (at least one title and url)")
        return self


class ConsentText(Strict):
    """The consent text for one language, versioned; its hash is stored with every consent."""

    language: Slug
    version: Text
    intro: Text
    scopes: dict[Scope, Text]
    # What a resident taking part alone reads instead (no group, no facilitator); scopes left
    # out of ``solo_scopes`` read as in ``scopes``.
    solo_intro: Text | None = None
    solo_scopes: dict[Scope, Text] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _all_scopes(self) -> ConsentText:
        missing = [s for s in SCOPES if s not in self.scopes]
        if missing:
            raise ValueError(f"describe every scope; missing: {', '.join(missing)}")
        return self

    def full_text(self, solo: bool = False) -> str:
        """The exact text a person reads before agreeing (``solo``: a resident alone)."""
        intro, scopes = self.intro, self.scopes
        if solo:
            intro, scopes = self.solo_intro or intro, {**scopes, **self.solo_scopes}
        lines = [intro, ""]
        lines += [f"- {scope}: {scopes[scope]}" for scope in SCOPES]
        return "\n".join(lines)

    def digest(self, solo: bool = False) -> str:
        """SHA-256 of the exact text the person read, stored with each consent."""
        return hashlib.sha256(self.full_text(solo).encode("utf-8")).hexdigest()
