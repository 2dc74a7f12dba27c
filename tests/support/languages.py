"""Telling Bengali from English in what the bot said, with the shipped catalogue and content.

A text is Bengali when it has a letter of the Bengali script (U+0980-U+09FF) and English when it
has Latin letters and no Bengali ones; digits, punctuation and blank lines are neither, so they
fit either language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.content.models import ConsentText
from bot.texts import Catalogue
from tests.support.capture import LIBRARY

BENGALI = re.compile(r"[\u0980-\u09FF]")
LATIN = re.compile(r"[A-Za-z]")
# The shipped Bengali consent: what Rani reads and what her consent records.
BN_CONSENT: ConsentText = LIBRARY.consent_in("bn")


def catalogue() -> Catalogue:
    """The shipped catalogue: English and the Bengali translation."""
    return Catalogue.load()


def is_bengali(text: str) -> bool:
    """``text`` has a letter of the Bengali script."""
    return BENGALI.search(text) is not None


def is_english(text: str) -> bool:
    """``text`` has Latin letters and no Bengali ones."""
    return LATIN.search(text) is not None and not is_bengali(text)


def language_of(text: str) -> str | None:
    """``bn``, ``en``, or None for a text with no letters (digits, marks, blank)."""
    if is_bengali(text):
        return "bn"
    return "en" if is_english(text) else None


def not_in(language: str, texts: Iterable[str]) -> list[str]:
    """The texts (with letters) that are not in ``language``: empty when all of them are."""
    return [text for text in texts if language_of(text) not in (language, None)]
