"""The optional profile questions: a pydantic model of ``prompts/profile/<language>.toml``.

The questions are content, so a deployment can change them (its wards, its languages). Every
question is offered with a "prefer not to say" answer and can be skipped.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from bot.content.load import load_toml
from bot.content.locate import line_of_toml_field
from bot.content.models import Slug, Strict, Text
from bot.content.problems import Problem

# Discord shows at most 25 buttons on a message; "prefer not to say" and "skip" take two.
MAX_OPTIONS = 23


class ProfileQuestion(Strict):
    """One question about the person, answered by choosing one option."""

    id: Slug
    # A short name for reviews and reports ("Age group"); the question itself is ``text``.
    label: Text
    text: Text
    # Shown under the question, e.g. the Equality Act definition of disability.
    help: str = ""
    options: tuple[Text, ...] = Field(min_length=2, max_length=MAX_OPTIONS)
    # Optional headings that gather options for the reach report (e.g. the census's five
    # high-level ethnic groups): heading -> its options. Every option is under exactly one.
    groups: dict[Text, tuple[Text, ...]] = Field(default_factory=dict)
    # Whether the reach report compares answers with the area's population (resources/).
    baseline: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> ProfileQuestion:
        repeated = sorted({o for o in self.options if self.options.count(o) > 1})
        if repeated:
            raise ValueError(f"options are listed twice: {', '.join(repeated)}")
        if not self.groups:
            return self
        placed = [option for members in self.groups.values() for option in members]
        unknown = sorted(set(placed) - set(self.options))
        if unknown:
            raise ValueError(
                f"groups name options the question does not have: {', '.join(unknown)}"
            )
        twice = sorted({o for o in placed if placed.count(o) > 1})
        if twice:
            raise ValueError(f"options are in more than one group: {', '.join(twice)}")
        left = [o for o in self.options if o not in placed]
        if left:
            raise ValueError(f"options are in no group: {', '.join(left)}")
        return self

    def report_values(self) -> tuple[str, ...]:
        """What the reach report counts: the group headings if any, else the options."""
        return tuple(self.groups) if self.groups else self.options

    def report_value(self, answer: str) -> str | None:
        """The report value an answer counts towards (None: not one of the options)."""
        if answer not in self.options:
            return None
        return next((g for g, members in self.groups.items() if answer in members), answer)


class ProfileQuestions(Strict):
    """The profile questions in one language, asked one at a time in a private chat."""

    language: Slug
    version: Text
    prefer_not_to_say: Text = "Prefer not to say"
    questions: tuple[ProfileQuestion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ProfileQuestions:
        ids = [q.id for q in self.questions]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"question ids are used twice: {', '.join(repeated)}")
        clash = [q.id for q in self.questions if self.prefer_not_to_say in q.options]
        if clash:
            raise ValueError(
                f"'{self.prefer_not_to_say}' is added to every question; remove it from the "
                f"options of: {', '.join(clash)}"
            )
        return self

    def question(self, question_id: str) -> ProfileQuestion | None:
        """The question with this id, or None."""
        return next((q for q in self.questions if q.id == question_id), None)

    def choices(self, question: ProfileQuestion) -> tuple[str, ...]:
        """The numbered answers to a question: its options, then "prefer not to say"."""
        return (*question.options, self.prefer_not_to_say)


def answer_in(
    source: ProfileQuestions, shown: ProfileQuestions, question_id: str, answer: str
) -> str:
    """A stored answer (the source's option) in the words of ``shown``, matched by its number.

    An answer the source no longer offers is shown as it was stored.
    """
    question, words = source.question(question_id), shown.question(question_id)
    if question is None or words is None or answer not in source.choices(question):
        return answer
    return shown.choices(words)[source.choices(question).index(answer)]


def load_profile(folder: Path, language: str, problems: list[Problem]) -> ProfileQuestions | None:
    """The deployment's own profile questions: ``<language>.toml`` in ``folder`` (if there)."""
    path = folder / f"{language}.toml"
    if not path.is_file():
        return None
    questions = load_toml(ProfileQuestions, path, problems)
    if questions is not None and questions.language != language:
        problems.append(
            Problem(
                path,
                line_of_toml_field(path.read_text(encoding="utf-8"), ("language",)),
                "language",
                f"the file for '{questions.language}' must be named {questions.language}.toml",
            )
        )
        return None
    return questions
