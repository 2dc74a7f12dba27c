"""Load all content under a root and cross-check it: every problem, with file and field."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.content.baseline import FILE_NAME as BASELINE_FILE
from bot.content.baseline import Baseline, baseline_problems, load_baseline
from bot.content.heard import malformed, problem, references
from bot.content.languages import Pending, findings, is_translation, load_translations
from bot.content.load import load_card, load_toml
from bot.content.locate import line_of_toml_field
from bot.content.models import Card, ConsentText, Script
from bot.content.problems import ContentError, Problem
from bot.content.profile import ProfileQuestions, load_profile
from bot.content.translate import Translated
from bot.content.translation import pick
from bot.content.version import Version, version_of
from bot.texts import Catalogue, base


@dataclass(frozen=True)
class Library:
    """All loaded content: scripts and cards by id, consent texts by language, translations.

    ``language`` is the deployment's source language (``content.language``): where every
    language falls back to, and the language of stored profile answers.
    """

    scripts: dict[str, Script] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    consents: dict[str, ConsentText] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    # The optional profile questions by language, and the area's population shares.
    profiles: dict[str, ProfileQuestions] = field(default_factory=dict)
    baseline: Baseline | None = None
    language: str = "en"
    # Scripts and cards in other languages (the source with a translation's words), by id and
    # language; and every translation file, by 'kind:item:language', for the content check.
    translated_scripts: dict[str, dict[str, Script]] = field(default_factory=dict)
    translated_cards: dict[str, dict[str, Card]] = field(default_factory=dict)
    translations: dict[str, Translated] = field(default_factory=dict)
    # Translations still to load, each language when first asked for (None: all are loaded).
    pending: Pending | None = field(default=None, repr=False, compare=False)

    @property
    def languages(self) -> frozenset[str]:
        """The languages content exists in: sources' and translations' (by their file names)."""
        sources = {s.language for s in self.scripts.values()}
        sources |= {c.language for c in self.cards.values()}
        return frozenset(
            sources
            | set(self.consents)
            | set(self.profiles)
            | {t.language for t in self.translations.values()}
            | (self.pending.named if self.pending is not None else frozenset())
        )

    def _chain(self, language: str) -> None:
        """Load the translations ``language`` may be shown in, if they are still pending."""
        if self.pending is not None:
            self.pending.load_chain(self, language)

    def script_in(self, script_id: str, language: str) -> Script | None:
        """The script in ``language``, else along its fallback chain; None if no such script."""
        source = self.scripts.get(script_id)
        if source is None:
            return None
        self._chain(language)
        found = {source.language: source, **self.translated_scripts.get(script_id, {})}
        return pick(language, self.language, found) or source

    def card_in(self, card_id: str, language: str) -> Card | None:
        """The card in ``language``, else along its fallback chain; None if no such card."""
        source = self.cards.get(card_id)
        if source is None:
            return None
        self._chain(language)
        found = {source.language: source, **self.translated_cards.get(card_id, {})}
        return pick(language, self.language, found) or source

    def consent_in(self, language: str) -> ConsentText:
        """The consent text in ``language``, else along its chain to the source language's.

        Raises KeyError when there is none in the source language either (the bot does not
        start without one).
        """
        self._chain(language)
        return pick(language, self.language, self.consents) or self.consents[self.language]

    def profile_in(self, language: str) -> ProfileQuestions | None:
        """The profile questions in ``language``, else along its chain; None if there are none."""
        self._chain(language)
        return pick(language, self.language, self.profiles)

    def version(self, script: Script) -> Version:
        """The content version of ``script``: its cards, and both in every translation."""
        if self.pending is not None:
            self.pending.load_all(self)  # the digest is of every language's
        return version_of(
            script, self.cards, self.translated_scripts.get(script.id, {}), self.translated_cards
        )

    def source_version(self, kind: str, item: str) -> str | None:
        """The current version of a translation's source (None: the source is gone)."""
        found: dict[str, Script | Card | ConsentText | ProfileQuestions | None] = {
            "script": self.scripts.get(item),
            "card": self.cards.get(item),
            "consent": self.consents.get(self.language),
            "profile": self.profiles.get(self.language),
        }
        source = found[kind]
        return source.version if source is not None else None


def load_library(root: Path, language: str = "en", lazy: bool = False) -> Library:
    """Load all content under ``root`` (source language ``language``), or raise ContentError.

    ``lazy`` leaves the translations to load when first asked for (see ``Pending``): a broken
    one is then logged and left out, where loading them all at once raises.
    """
    problems, library = collect(root, language, lazy)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise ContentError(errors)
    return library


def collect(root: Path, language: str = "en", lazy: bool = False) -> tuple[list[Problem], Library]:
    """Load what loads, and list every problem, cross-references and translations included.

    ``lazy``: the translations are left pending, unchecked (``dialogue content check`` checks
    them all).
    """
    problems: list[Problem] = []
    library = Library(language=language, pending=Pending(root, language) if lazy else None)
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
    for path in sorted(p for p in prompts.glob("*.toml") if not is_translation(p)):
        _keep(library, "script", load_toml(Script, path, problems), path, problems)
    consent = prompts / "consent" / f"{language}.toml"
    if consent.is_file():
        text = load_toml(ConsentText, consent, problems)
        if text is not None and text.language != language:
            reason = f"this is the consent text in '{language}'; set language = \"{language}\""
            problems.append(Problem(consent, None, "language", reason))
        else:
            _keep(library, "consent", text, consent, problems)
    for path in sorted(p for p in resources.glob("*.md") if not is_translation(p)):
        _keep(library, "card", load_card(Card, path, problems), path, problems)
    profile = load_profile(prompts / "profile", language, problems)
    if profile is not None:
        library.profiles[language] = profile
        library.files[f"profile:{language}"] = prompts / "profile" / f"{language}.toml"
    baseline_path = resources / BASELINE_FILE
    if baseline_path.is_file():
        baseline = load_baseline(baseline_path, problems)
        if baseline is not None:
            problems += baseline_problems(baseline, baseline_path, library.profiles.values())
        library = replace(library, baseline=baseline)
    if lazy:
        return problems + cross_check(library, root), library
    load_translations(root, library, problems)
    problems += cross_check(library, root)
    problems += findings(library)
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
