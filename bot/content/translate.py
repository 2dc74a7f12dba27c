"""Check each translation against its source, and merge its words over the source.

Every check names the translation's file, line and field. A checked translation becomes a
whole script, card, consent text or profile in its language: the source with its words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.locate import line_of_toml_field
from bot.content.marks import differ
from bot.content.models import Card, ConsentText, Image, Question, Scale, Script, Step
from bot.content.problems import Problem
from bot.content.profile import ProfileQuestion, ProfileQuestions
from bot.content.translation import (
    CardTranslation,
    ConsentTranslation,
    ImageWords,
    ProfileQuestionWords,
    ProfileTranslation,
    QuestionWords,
    Review,
    ScaleWords,
    ScriptTranslation,
    StepWords,
)

Lines = Callable[[tuple[str | int, ...]], int | None]


def _source_only(sources: tuple[type[Any], ...], words: tuple[type[Any], ...]) -> frozenset[str]:
    fields = {f for model in sources for f in model.model_fields}
    return frozenset(fields - {f for model in words for f in model.model_fields})


# Fields a translation file may not hold: they are the source's (kinds, minutes, cards, ids...).
SCRIPT_ONLY = _source_only(
    (Script, Step, Question, Scale), (ScriptTranslation, StepWords, QuestionWords, ScaleWords)
)
CARD_ONLY = _source_only((Card, Image), (CardTranslation, ImageWords))


@dataclass(frozen=True, slots=True)
class Translated:
    """One translation file: what it translates, and how far it has got."""

    kind: str  # script, card, consent or profile
    item: str  # the source's id (the kind again for consent and profile)
    language: str
    path: Path
    source_path: Path
    source_version: str
    review: Review
    # Lines of ``source_version`` and ``review``, for the content check to point at.
    version_line: int | None
    review_line: int | None


def names(
    words: ScriptTranslation | CardTranslation | ConsentTranslation | ProfileTranslation,
    source_id: str | None,
    source_language: str,
    named: str,
    path: Path,
    lines: Lines,
) -> list[Problem]:
    """A translation's id and language against its source's and its file name (``named``)."""
    problems: list[Problem] = []
    given_id = getattr(words, "id", None)
    if source_id is not None and given_id != source_id:
        problems.append(
            Problem(
                path,
                lines(("id",)),
                "id",
                f"the source's id is '{source_id}'; a translation keeps its source's id",
            )
        )
    if words.language != named:
        problems.append(
            Problem(
                path,
                lines(("language",)),
                "language",
                f"the file name says '{named}' but the file says '{words.language}'; "
                "make them the same",
            )
        )
    elif words.language == source_language:
        problems.append(
            Problem(
                path,
                lines(("language",)),
                "language",
                f"the source is in '{source_language}' already; a translation is in another "
                "language",
            )
        )
    return problems


def script_problems(
    words: ScriptTranslation, source: Script, path: Path, lines: Lines
) -> list[Problem]:
    """Steps, options and questions of a script translation that its source does not have."""
    problems: list[Problem] = []
    if words.description is not None:
        problems += differ(
            source.description, words.description, path, lines(("description",)), "description"
        )
    ids = [s.id for s in source.steps]
    seen: set[str] = set()
    for number, given in enumerate(words.steps):
        where = f"steps[{number + 1}]"
        index = source.index_of(given.id)
        if index is None or given.id in seen:
            reason = (
                f"step '{given.id}' is translated twice; keep one"
                if given.id in seen
                else f"the source has no step '{given.id}'; use one of: {', '.join(ids)}"
            )
            problems.append(Problem(path, lines(("steps", number, "id")), f"{where}.id", reason))
            continue
        seen.add(given.id)
        problems += _step_problems(source.steps[index], given, path, _at(lines, number), where)
    return problems


def _at(lines: Lines, number: int) -> Callable[[str], int | None]:
    """Lines of the fields of the translation's step number ``number``."""
    return lambda field: lines(("steps", number, field))


def _step_problems(
    step: Step, words: StepWords, path: Path, line: Callable[[str], int | None], where: str
) -> list[Problem]:
    problems: list[Problem] = []
    texts = {
        "text": step.text,
        "self_paced_text": step.self_paced_text,
        "self_paced_more": step.self_paced_more,
    }
    for field, source_text in texts.items():
        given = getattr(words, field)
        if given is None:
            continue
        if not source_text:
            problems.append(_absent(path, line(field), f"{where}.{field}", f"no {field}"))
        else:
            problems += differ(source_text, given, path, line(field), f"{where}.{field}")
    if words.options is not None:
        problems += _count(step.options, words.options, path, line("options"), f"{where}.options")
    if words.scale is not None and step.scale is None:
        problems.append(_absent(path, line("scale"), f"{where}.scale", "no scale"))
    if words.questions is not None:
        problems += _questions(step, words.questions, path, line("questions"), where)
    return problems


def _questions(
    step: Step, given: tuple[QuestionWords, ...], path: Path, line: int | None, where: str
) -> list[Problem]:
    if not step.questions:
        return [_absent(path, line, f"{where}.questions", "no questions")]
    problems: list[Problem] = []
    known = {q.id: q for q in step.questions}
    for number, words in enumerate(given):
        field = f"{where}.questions[{number + 1}]"
        question = known.get(words.id)
        if question is None:
            reason = f"the source step has no question '{words.id}'; use one of: {', '.join(known)}"
            problems.append(Problem(path, line, f"{field}.id", reason))
        elif words.options is not None:
            problems += _count(question.options, words.options, path, line, f"{field}.options")
    return problems


def _count(
    source: tuple[str, ...], given: tuple[str, ...], path: Path, line: int | None, field: str
) -> list[Problem]:
    """Options must match the source's one for one: answers are stored by their number."""
    if len(source) == len(given):
        return []
    if not source:
        return [_absent(path, line, field, "no options")]
    return [
        Problem(
            path,
            line,
            field,
            f"the source has {len(source)} options and this has {len(given)}; translate each "
            "of the source's options, in the same order (answers are kept by their number)",
        )
    ]


def _absent(path: Path, line: int | None, field: str, what: str) -> Problem:
    return Problem(
        path,
        line,
        field,
        f"the source has {what} here, so there is nothing to translate; remove it",
    )


def merged_script(words: ScriptTranslation, source: Script) -> Script:
    """The source script in the translation's words; id, version and structure stay."""
    given = {s.id: s for s in words.steps}
    steps = tuple(_merged_step(s, given[s.id]) if s.id in given else s for s in source.steps)
    description = source.description if words.description is None else words.description
    update = {"language": words.language, "title": words.title, "description": description}
    return source.model_copy(update={**update, "steps": steps})


def _merged_step(step: Step, words: StepWords) -> Step:
    update = words.model_dump(exclude={"id", "scale", "questions"}, exclude_none=True)
    if words.scale is not None and step.scale is not None:
        labels = words.scale.model_dump(exclude_none=True)
        update["scale"] = step.scale.model_copy(update=labels)
    if words.questions is not None:
        by_id = {q.id: q.model_dump(exclude={"id"}, exclude_none=True) for q in words.questions}
        update["questions"] = tuple(
            q.model_copy(update=by_id.get(q.id, {})) for q in step.questions
        )
    return step.model_copy(update=update)


def card_problems(words: CardTranslation, source: Card, path: Path, lines: Lines) -> list[Problem]:
    """A card translation's picture and markup against its source's."""
    problems = differ(source.body, words.body, path, lines(("body",)), "body")
    if words.image is not None and source.image is None:
        problems.append(_absent(path, lines(("image",)), "image", "no picture"))
    return problems


def merged_card(words: CardTranslation, source: Card) -> Card:
    """The source card in the translation's words; its sources and picture stay."""
    image = source.image
    if words.image is not None and image is not None:
        image = image.model_copy(update={"alt": words.image.alt})
    update = {"language": words.language, "title": words.title, "summary": words.summary}
    return source.model_copy(update={**update, "body": words.body, "image": image})


def consent_problems(
    words: ConsentTranslation, source: ConsentText, path: Path, lines: Lines
) -> list[Problem]:
    """A consent translation's commands and markup against its source's."""
    problems = differ(source.intro, words.intro, path, lines(("intro",)), "intro")
    for scope, text in source.scopes.items():
        field = ("scopes", str(scope))
        problems += differ(text, words.scopes[scope], path, lines(field), f"scopes.{scope}")
    return problems


def merged_consent(words: ConsentTranslation) -> ConsentText:
    """The consent text alone: what people read, and what its hash is taken of."""
    return ConsentText.model_validate(words.model_dump(exclude={"translation"}))


def profile_problems(
    words: ProfileTranslation, source: ProfileQuestions, path: Path, lines: Lines
) -> list[Problem]:
    """Profile questions the source lacks, and options not one for one with the source's."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, given in enumerate(words.questions):
        where = f"questions[{number + 1}]"
        question = source.question(given.id)
        if question is None or given.id in seen:
            reason = (
                f"question '{given.id}' is translated twice; keep one"
                if given.id in seen
                else f"the source has no question '{given.id}'; use one of: "
                + ", ".join(q.id for q in source.questions)
            )
            problems.append(
                Problem(path, lines(("questions", number, "id")), f"{where}.id", reason)
            )
            continue
        seen.add(given.id)
        if given.options is not None:
            line = lines(("questions", number, "options"))
            problems += _count(question.options, given.options, path, line, f"{where}.options")
        problems += _grouped(question, given, path, _in_question(lines, number), where)
    return problems


def _in_question(lines: Lines, number: int) -> Callable[[str], int | None]:
    """Lines of the fields of the translation's profile question number ``number``."""
    return lambda field: lines(("questions", number, field))


def _grouped(
    question: ProfileQuestion,
    words: ProfileQuestionWords,
    path: Path,
    line: Callable[[str], int | None],
    where: str,
) -> list[Problem]:
    """A translation's ``baseline`` and option groups against the source question's."""
    problems: list[Problem] = []
    if words.baseline is not None and words.baseline != question.baseline:
        problems.append(
            Problem(
                path,
                line("baseline"),
                f"{where}.baseline",
                f"the source has baseline = {str(question.baseline).lower()}; a translation "
                "cannot change what the reach report compares: remove it or make it the same",
            )
        )
    options = words.options or question.options
    if words.groups is None or len(options) != len(question.options):
        return problems
    want = [sorted(question.options.index(m) for m in g) for g in question.groups.values()]
    have = [
        sorted(options.index(m) if m in options else -1 for m in g) for g in words.groups.values()
    ]
    if want != have:
        problems.append(
            Problem(
                path,
                line("groups"),
                f"{where}.groups",
                "each group must gather the same options as the source's group in the same "
                "place (options are matched by their number), with the groups in the source's "
                "order; or leave groups out and the source's headings are used",
            )
        )
    return problems


def merged_profile(words: ProfileTranslation, source: ProfileQuestions) -> dict[str, Any]:
    """The data of the profile in the translation's words, to validate as ProfileQuestions.

    Groups left out keep the source's headings, gathering the translated options by number.
    """
    given = {q.id: q.model_dump(exclude={"id"}, exclude_none=True) for q in words.questions}
    questions = []
    for question in source.questions:
        words_of = given.get(question.id, {})
        options = words_of.get("options", question.options)
        groups = {
            heading: tuple(options[question.options.index(m)] for m in members)
            for heading, members in question.groups.items()
        }
        questions.append({**question.model_dump(), "groups": groups, **words_of})
    prefer = words.prefer_not_to_say or source.prefer_not_to_say
    return {
        "language": words.language,
        "version": words.version,
        "prefer_not_to_say": prefer,
        "questions": questions,
    }


def profile_lines(words: ProfileTranslation, source: ProfileQuestions, lines: Lines) -> Lines:
    """Lines of the merged profile's fields, found in the translation by question id."""
    at = {q.id: n for n, q in enumerate(words.questions)}

    def line(loc: tuple[str | int, ...]) -> int | None:
        if len(loc) > 1 and loc[0] == "questions" and isinstance(loc[1], int):
            number = at.get(source.questions[loc[1]].id)
            return lines(("questions", number, *loc[2:])) if number is not None else None
        return lines(loc)

    return line


def record(
    kind: str,
    item: str,
    words: ScriptTranslation | CardTranslation | ConsentTranslation | ProfileTranslation,
    path: Path,
    source_path: Path,
    lines: Lines,
) -> Translated:
    """What the content check needs to know of a translation file."""
    meta = words.translation
    return Translated(
        kind,
        item,
        words.language,
        path,
        source_path,
        meta.source_version,
        meta.review,
        lines(("translation", "source_version")),
        lines(("translation", "review")),
    )


def toml_lines(path: Path) -> Lines:
    """Line lookup in a TOML translation file (read again: it loaded, so it reads)."""
    text = path.read_text(encoding="utf-8")
    return lambda loc: line_of_toml_field(text, loc)
