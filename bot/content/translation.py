"""Translations of content: models of the files and the chain a language falls back along.

A translation is a file next to its source that gives only the words: a script's
``prompts/<stem>.<language>.toml``, a card's ``resources/<card-id>.<language>.md``, and
``prompts/consent/<language>.toml`` or ``prompts/profile/<language>.toml`` in a language other
than the deployment's. Each records the version of the source it translates and whether a
fluent speaker has reviewed it. Everything that is not words (kinds, minutes, cards, sources,
ids) comes from the source, so a translation cannot change how a script runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, TypeVar

from pydantic import BeforeValidator

from bot.content.models import ConsentText, Slug, Strict, Text

T = TypeVar("T")
Review = Literal["draft", "reviewed"]
# YAML reads `source_version: 1` as a number; it names a version all the same.
Version = Annotated[Text, BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v)]


def fallbacks(language: str, source: str) -> tuple[str, ...]:
    """The languages to look in, in order: ``language``, its base (en-easy -> en), ``source``."""
    base = language.split("-", 1)[0]
    return tuple(dict.fromkeys((language, base, source)))


def pick(language: str, source: str, found: Mapping[str, T]) -> T | None:
    """The first of ``found`` (by language) along the fallback chain of ``language``."""
    return next((found[lang] for lang in fallbacks(language, source) if lang in found), None)


class TranslationOf(Strict):
    """The ``[translation]`` table: which version of the source, and whether it is reviewed."""

    source_version: Version
    review: Review


class ScaleWords(Strict):
    """A scale's end labels in another language (its points come from the source)."""

    min_label: Text | None = None
    max_label: Text | None = None


class QuestionWords(Strict):
    """A feedback question's words in another language."""

    id: Slug
    text: Text | None = None
    options: tuple[Text, ...] | None = None


class StepWords(Strict):
    """A step's words in another language; a field left out keeps the source's."""

    id: Slug
    text: Text | None = None
    self_paced_text: Text | None = None
    self_paced_more: Text | None = None
    options: tuple[Text, ...] | None = None
    questions: tuple[QuestionWords, ...] | None = None
    scale: ScaleWords | None = None


class ScriptTranslation(Strict):
    """``prompts/<stem>.<language>.toml``: a script's words in another language."""

    id: Slug
    language: Slug
    title: Text
    description: str | None = None
    translation: TranslationOf
    steps: tuple[StepWords, ...] = ()


class ImageWords(Strict):
    """A card picture's alt text in another language (the picture is the source's)."""

    alt: Text


class CardTranslation(Strict):
    """``resources/<card-id>.<language>.md``: a card's words in another language."""

    id: Slug
    language: Slug
    title: Text
    summary: Text
    translation: TranslationOf
    image: ImageWords | None = None
    body: Text


class ConsentTranslation(ConsentText):
    """A consent text in another language: a whole text of its own, and what it translates."""

    translation: TranslationOf


class ProfileQuestionWords(Strict):
    """A profile question's words; options in the source's count and order."""

    id: Slug
    label: Text | None = None
    text: Text | None = None
    help: Text | None = None
    options: tuple[Text, ...] | None = None
    # Headings in the translation's words, each gathering the same options as the source's.
    groups: dict[Text, tuple[Text, ...]] | None = None
    # As the source has it: a translation cannot change what the reach report compares.
    baseline: bool | None = None


class ProfileTranslation(Strict):
    """``prompts/profile/<language>.toml`` in another language than the deployment's."""

    language: Slug
    version: Text
    prefer_not_to_say: Text | None = None
    translation: TranslationOf
    questions: tuple[ProfileQuestionWords, ...] = ()
