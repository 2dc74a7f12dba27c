"""Load the translations of a content root into a library, and report how complete they are.

A translation file is found by its name: ``prompts/<stem>.<language>.toml`` translates
``prompts/<stem>.toml``, ``resources/<card-id>.<language>.md`` translates
``resources/<card-id>.md``; ``prompts/consent/`` and ``prompts/profile/`` hold one file per
language, and every language but the deployment's (``content.language``) is a translation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.content import translate
from bot.content.load import card_lines, load_card, load_toml, validate
from bot.content.models import ConsentText
from bot.content.problems import Problem
from bot.content.profile import ProfileQuestions
from bot.content.translate import Lines, Translated
from bot.content.translation import (
    CardTranslation,
    ConsentTranslation,
    ProfileTranslation,
    ScriptTranslation,
    fallbacks,
    pick,
)

if TYPE_CHECKING:
    from bot.content.check import Library

W = TypeVar("W", ConsentTranslation, ProfileTranslation)
S = TypeVar("S", ConsentText, ProfileQuestions)

log = logging.getLogger(__name__)


def is_translation(path: Path) -> bool:
    """Whether a script or card file is a translation (``<stem>.<language>.<ext>``)."""
    return "." in path.stem


def translation_files(root: Path, source: str) -> list[tuple[str, str, Path]]:
    """Every translation file under ``root``: its kind, the language its name gives, its path.

    ``source`` is the deployment's language, whose consent and profile files are sources.
    """
    prompts, resources = root / "prompts", root / "resources"
    return [
        *(
            ("script", _language_of(p), p)
            for p in sorted(prompts.glob("*.toml"))
            if is_translation(p)
        ),
        *(
            ("card", _language_of(p), p)
            for p in sorted(resources.glob("*.md"))
            if is_translation(p)
        ),
        *(
            (kind, p.stem, p)
            for kind in ("consent", "profile")
            for p in sorted((prompts / kind).glob("*.toml"))
            if p.stem != source
        ),
    ]


def _language_of(path: Path) -> str:
    return path.stem.partition(".")[2]


def load_translations(
    root: Path, library: Library, problems: list[Problem], language: str | None = None
) -> None:
    """Check the translations under ``root`` against their sources and add them to ``library``.

    Every language's, or only those whose file names give ``language``.
    """
    loaders = {"script": _script, "card": _card, "consent": _consent, "profile": _profile}
    for kind, named, path in translation_files(root, library.language):
        if language is None or named == language:
            loaders[kind](path, library, problems)


class Pending:
    """The translations of a library not loaded yet, by language: each loads when first asked.

    A running bot needs a language's translations only when someone reads it; a content
    version needs them all. A translation that does not load is left out, so its readers
    see the source language's, and its file is logged once (file, line and field only: the
    reasons may quote content). Used on the event loop only, so it needs no lock.
    """

    def __init__(self, root: Path, source: str) -> None:
        self.root = root
        self.named = frozenset(named for _, named, _ in translation_files(root, source))
        self.waiting = set(self.named)

    def load(self, library: Library, languages: Iterable[str]) -> None:
        """Load the translations of those of ``languages`` still waiting into ``library``."""
        for language in languages:
            if language not in self.waiting:
                continue
            self.waiting.discard(language)
            problems: list[Problem] = []
            load_translations(self.root, library, problems, language)
            _log_broken([p for p in problems if not p.warning])

    def load_chain(self, library: Library, language: str) -> None:
        """Load every language on ``language``'s fallback chain."""
        if self.waiting:
            self.load(library, fallbacks(language, library.language))

    def load_all(self, library: Library) -> None:
        """Load every language still waiting."""
        if self.waiting:
            self.load(library, sorted(self.waiting))


def _log_broken(problems: list[Problem]) -> None:
    """One warning per file that did not load, naming its first line and its fields."""
    by_file: dict[Path, list[Problem]] = {}
    for problem in problems:
        by_file.setdefault(problem.path, []).append(problem)
    for path, found in by_file.items():
        line = next((p.line for p in found if p.line), None)
        fields = ", ".join(dict.fromkeys(p.field for p in found if p.field)) or "the file"
        log.warning(
            "translation not used (its readers see the source language's): %s: %s; "
            "'dialogue content check' says why",
            f"{path}:{line}" if line else path,
            fields,
            extra={"kind": "content", "file": str(path)},
        )


def _no_source(path: Path, source: Path, what: str) -> Problem:
    return Problem(
        path,
        None,
        "",
        f"there is no {what} at {source} for this to translate; name a translation after its "
        "source (<source>.<language>), or add the source first",
    )


def _loaded_source(library: Library, kind: str, source_path: Path) -> str | None:
    """The id of the source that loaded from ``source_path`` (None: it has errors of its own)."""
    prefix = f"{kind}:"
    return next(
        (
            k.removeprefix(prefix)
            for k, p in library.files.items()
            if k.startswith(prefix) and p == source_path
        ),
        None,
    )


def _script(path: Path, library: Library, problems: list[Problem]) -> None:
    stem, _, named = path.stem.partition(".")
    source_path = path.with_name(f"{stem}.toml")
    if not source_path.is_file():
        problems.append(_no_source(path, source_path, "script"))
        return
    words = load_toml(ScriptTranslation, path, problems, translate.SCRIPT_ONLY)
    script_id = _loaded_source(library, "script", source_path)
    if words is None or script_id is None:
        return
    source, lines = library.scripts[script_id], translate.toml_lines(path)
    found = translate.names(words, source.id, source.language, named, path, lines)
    found += translate.script_problems(words, source, path, lines)
    if _kept(
        found,
        problems,
        library,
        translate.record("script", source.id, words, path, source_path, lines),
    ):
        library.translated_scripts.setdefault(source.id, {})[named] = translate.merged_script(
            words, source
        )


def _card(path: Path, library: Library, problems: list[Problem]) -> None:
    stem, _, named = path.stem.partition(".")
    source_path = path.with_name(f"{stem}.md")
    if not source_path.is_file():
        problems.append(_no_source(path, source_path, "card"))
        return
    words = load_card(CardTranslation, path, problems, translate.CARD_ONLY)
    card_id = _loaded_source(library, "card", source_path)
    if words is None or card_id is None:
        return
    source, lines = library.cards[card_id], _card_lines(path)
    found = translate.names(words, source.id, source.language, named, path, lines)
    found += translate.card_problems(words, source, path, lines)
    if _kept(
        found,
        problems,
        library,
        translate.record("card", source.id, words, path, source_path, lines),
    ):
        library.translated_cards.setdefault(source.id, {})[named] = translate.merged_card(
            words, source
        )


def _card_lines(path: Path) -> Lines:
    return card_lines(path.read_text(encoding="utf-8").split("---\n", 2)[1])


def _consent(path: Path, library: Library, problems: list[Problem]) -> None:
    checked = _whole_file(
        path,
        library,
        problems,
        ("consent", "consent text"),
        (ConsentTranslation, library.consents),
        translate.consent_problems,
    )
    if checked is not None:
        words, _, _ = checked
        library.consents[words.language] = translate.merged_consent(words)
        library.files[f"consent:{words.language}"] = path


def _profile(path: Path, library: Library, problems: list[Problem]) -> None:
    checked = _whole_file(
        path,
        library,
        problems,
        ("profile", "profile"),
        (ProfileTranslation, library.profiles),
        translate.profile_problems,
    )
    if checked is None:
        return
    words, source, lines = checked
    data = translate.merged_profile(words, source)
    merged = validate(
        ProfileQuestions, data, path, problems, translate.profile_lines(words, source, lines)
    )
    if merged is not None:
        library.profiles[words.language] = merged


def _whole_file(
    path: Path,
    library: Library,
    problems: list[Problem],
    kind: tuple[str, str],
    model: tuple[type[W], Mapping[str, S]],
    check: Callable[[W, S, Path, Lines], list[Problem]],
) -> tuple[W, S, Lines] | None:
    """A consent or profile translation checked against its source.

    ``kind`` is its kind and what to call it; ``model`` its model and the sources by language.
    Gives its words, the source and its lines, or None when there is no source or it has
    problems (recorded in ``problems``).
    """
    (name, what), (words_model, sources) = kind, model
    source_path = path.with_name(f"{library.language}.toml")
    source = sources.get(library.language)
    if source is None:
        if not source_path.is_file():
            problems.append(_no_source(path, source_path, what))
        return None
    words = load_toml(words_model, path, problems)
    if words is None:
        return None
    lines = translate.toml_lines(path)
    found = translate.names(words, None, source.language, path.stem, path, lines)
    found += check(words, source, path, lines)
    meta = translate.record(name, name, words, path, source_path, lines)
    if not _kept(found, problems, library, meta):
        return None
    return words, source, lines


def _kept(
    found: list[Problem], problems: list[Problem], library: Library, meta: Translated
) -> bool:
    """Record a translation that has no problems; False if it has some."""
    problems += found
    if found:
        return False
    library.translations[f"{meta.kind}:{meta.item}:{meta.language}"] = meta
    return True


def findings(library: Library) -> list[Problem]:
    """Warnings for ``dialogue content check``: missing, out-of-date and draft translations."""
    return _missing(library) + [
        p for meta in library.translations.values() for p in _state(library, meta)
    ]


def _missing(library: Library) -> list[Problem]:
    problems: list[Problem] = []
    source = library.language
    items: list[tuple[str, str, str, str]] = [
        *(("script", s.id, s.language, f"script:{s.id}") for s in library.scripts.values()),
        *(
            ("card", c.id, c.language, f"card:{c.id}")
            for c in library.cards.values()
            if not c.cycle
        ),
    ]
    # The consent text and profile questions have one source each: the source language's.
    items += [
        (k, k, source, f"{k}:{source}")
        for k in ("consent", "profile")
        if f"{k}:{source}" in library.files
    ]
    for language in sorted(library.languages):
        for kind, item, own, file in items:
            if language == own or f"{kind}:{item}:{language}" in library.translations:
                continue
            found = {own: own, **{lang: lang for lang in _translated(library, kind, item)}}
            falls = pick(language, library.language, found) or own
            problems.append(
                Problem(
                    library.files[file],
                    None,
                    "",
                    f"no '{language}' translation of the {_named(kind, item)}; people reading "
                    f"'{language}' are shown the '{falls}' one until it is translated",
                    warning=True,
                )
            )
    return problems


def _named(kind: str, item: str) -> str:
    return {"consent": "consent text", "profile": "profile questions"}.get(kind, f"{kind} '{item}'")


def _translated(library: Library, kind: str, item: str) -> list[str]:
    return [m.language for m in library.translations.values() if (m.kind, m.item) == (kind, item)]


def _state(library: Library, meta: Translated) -> list[Problem]:
    problems: list[Problem] = []
    now = library.source_version(meta.kind, meta.item)
    if now is not None and now != meta.source_version:
        problems.append(
            Problem(
                meta.path,
                meta.version_line,
                "translation.source_version",
                f"this translates version {meta.source_version} of {meta.source_path}, which is "
                f"now version {now}: bring the translation up to date with what changed, then "
                f"set source_version = \"{now}\"; until then people reading '{meta.language}' "
                "may see words the source no longer says",
                warning=True,
            )
        )
    if meta.review == "draft":
        problems.append(
            Problem(
                meta.path,
                meta.version_line if meta.review_line is None else meta.review_line,
                "translation.review",
                f"this translation is a DRAFT: have a fluent reader of '{meta.language}' review "
                'it, then set review = "reviewed"; until then people reading '
                f"'{meta.language}' are shown a translation nobody has checked",
                warning=True,
            )
        )
    return problems
