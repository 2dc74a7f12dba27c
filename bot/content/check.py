"""Load all content under a root and cross-check it: every problem, with file and field."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.content.baseline import FILE_NAME as BASELINE_FILE
from bot.content.baseline import Baseline, baseline_problems, load_baseline
from bot.content.heard import malformed, problem, references
from bot.content.load import load_card, load_toml
from bot.content.locate import line_of_toml_field
from bot.content.models import Card, ConsentText, Script
from bot.content.problems import ContentError, Problem
from bot.content.profile import ProfileQuestions, load_profiles
from bot.texts import Catalogue, base


@dataclass(frozen=True)
class Library:
    """All loaded content: scripts and cards by id, consent texts by language."""

    scripts: dict[str, Script] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    consents: dict[str, ConsentText] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    # The optional profile questions by language, and the area's population shares.
    profiles: dict[str, ProfileQuestions] = field(default_factory=dict)
    baseline: Baseline | None = None


def load_library(root: Path) -> Library:
    """Load every script, card and consent text under ``root``, or raise ContentError."""
    problems, library = collect(root)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise ContentError(errors)
    return library


def collect(root: Path) -> tuple[list[Problem], Library]:
    """Load what loads, and list every problem, cross-references included."""
    problems: list[Problem] = []
    library = Library()
    prompts, resources = root / "prompts", root / "resources"
    for folder in (prompts, resources):
        if not folder.is_dir():
            problems.append(
                Problem(
                    folder.resolve(),
                    None,
                    "",
                    "folder not found: scripts live in prompts/ and cards in resources/ under "
                    "the content root; set content.root in the settings file (or "
                    "DIALOGUE_CONTENT__ROOT) to the folder holding them, or make one with "
                    "`dialogue init DIR`",
                )
            )
    for path in sorted(prompts.glob("*.toml")):
        _keep(library, "script", load_toml(Script, path, problems), path, problems)
    for path in sorted((prompts / "consent").glob("*.toml")):
        _keep(library, "consent", load_toml(ConsentText, path, problems), path, problems)
    for path in sorted(resources.glob("*.md")):
        _keep(library, "card", load_card(path, problems), path, problems)
    library = replace(library, profiles=load_profiles(prompts / "profile", problems))
    baseline_path = resources / BASELINE_FILE
    if baseline_path.is_file():
        baseline = load_baseline(baseline_path, problems)
        if baseline is not None:
            problems += baseline_problems(baseline, baseline_path, library.profiles.values())
        library = replace(library, baseline=baseline)
    problems += cross_check(library, root)
    return problems, library


def _keep(library: Library, kind: str, item: Any, path: Path, problems: list[Problem]) -> None:
    if item is None:
        return
    stores: dict[str, dict[str, Any]] = {
        "script": library.scripts,
        "card": library.cards,
        "consent": library.consents,
    }
    into = stores[kind]
    key = item.language if kind == "consent" else item.id
    if key in into:
        first = library.files[f"{kind}:{key}"]
        problems.append(
            Problem(
                path,
                None,
                "language" if kind == "consent" else "id",
                f"'{key}' is already used by {first}; each {kind} needs its own",
            )
        )
        return
    into[key] = item
    library.files[f"{kind}:{key}"] = path


def cross_check(library: Library, root: Path) -> list[Problem]:
    """Problems between files: unknown cards, missing languages, images that are not there."""
    problems: list[Problem] = []
    catalogue = Catalogue.load()
    for script in library.scripts.values():
        path = library.files[f"script:{script.id}"]
        text = path.read_text(encoding="utf-8")
        if not {script.language, base(script.language)} & catalogue.languages:
            problems.append(
                Problem(
                    path,
                    line_of_toml_field(text, ("language",)),
                    "language",
                    f"the bot's own messages are not translated into '{script.language}', so "
                    "people see them in English; add "
                    f"bot/texts/{script.language}/LC_MESSAGES/messages.po (docs/translating.md)",
                    warning=True,
                )
            )
        if script.language not in library.consents:
            problems.append(
                Problem(
                    path,
                    line_of_toml_field(text, ("language",)),
                    "language",
                    f"there is no consent text in '{script.language}'; add "
                    f"prompts/consent/{script.language}.toml",
                )
            )
        for number, step in enumerate(script.steps):
            problems += heard_problems(step.text, path, text, number, library)
            for card_id in step.cards:
                card = library.cards.get(card_id)
                if card is None:
                    reason = (
                        f"no card has the id '{card_id}'; add resources/{card_id}.md or fix the id"
                    )
                elif card.language != script.language:
                    reason = (
                        f"card '{card_id}' is in '{card.language}' but the script is in "
                        f"'{script.language}'"
                    )
                else:
                    continue  # the lines of fields are looked up for problems only
                line = line_of_toml_field(text, ("steps", number, "cards"))
                problems.append(Problem(path, line, f"steps[{number + 1}].cards", reason))
    for card in library.cards.values():
        if card.image and not (root / "resources" / card.image.path).is_file():
            problems.append(
                Problem(
                    library.files[f"card:{card.id}"],
                    None,
                    "image.path",
                    f"no picture at resources/{card.image.path}",
                )
            )
    return problems


def heard_problems(
    step_text: str, path: Path, text: str, number: int, library: Library
) -> list[Problem]:
    """Problems with the ``{{heard:CARD#N}}`` quotes in one step's text."""
    reasons = [
        f"{{{{heard:{r.card}#{r.number}}}}}: {reason}"
        for r in references(step_text)
        if (reason := problem(r, library.cards)) is not None
    ]
    if malformed(step_text):
        reasons.append(
            "a quote of an earlier cycle is written {{heard:CARD#N}}, for example "
            "{{heard:heard-2027-c1#2}} (card id, '#', statement number)"
        )
    if not reasons:
        return []  # the lines of fields are looked up for problems only
    line = line_of_toml_field(text, ("steps", number, "text"))
    return [Problem(path, line, f"steps[{number + 1}].text", reason) for reason in reasons]
