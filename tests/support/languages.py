"""Telling Bengali from English in what the bot said, with the shipped catalogue and content.

A text is Bengali when it has a letter of the Bengali script (U+0980-U+09FF) and English when it
has Latin letters and no Bengali ones; digits, punctuation and blank lines are neither, so they
fit either language. ``language_of`` is stricter for a text with both: an English sentence that
names a Bengali word ("This session is now in বাংলা.") is English, a Bengali one that names a
command or "NHS" is Bengali; commands (``/agree participate``) are no words of either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.content.models import ConsentText
from bot.content.scopes import SCOPES
from bot.texts import Catalogue
from tests.support.capture import LIBRARY

BENGALI = re.compile(r"[\u0980-\u09FF]")
LATIN = re.compile(r"[A-Za-z]")
COMMAND = re.compile(r"/[a-z]+(?: [a-z0-9-]+)*")
URL = re.compile(r"https?://\S+")
# A list of consent scopes after a colon ("ধন্যবাদ: participate, quote"): the words a person
# types to agree (/agree participate), so the same in every language.
SCOPE_LIST = re.compile(rf"(?<=: )(?:{'|'.join(SCOPES)})(?:, (?:{'|'.join(SCOPES)}))*")
GLOSS = re.compile(r"\([^()]*\)")
PHRASE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;]+[A-Za-z][A-Za-z'’-]*)+")
WORD = re.compile(r"[\w\u0980-\u09FF]+")
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
    """``bn`` or ``en``, whichever has more of the words; None for a text with no letters.

    A tie goes to Bengali (a Bengali text may name an English word as often as its own).
    """
    words = WORD.findall(COMMAND.sub(" ", text))
    bengali = sum(1 for w in words if is_bengali(w))
    english = sum(1 for w in words if is_english(w))
    if bengali == english == 0:
        return None
    return "bn" if bengali >= english else "en"


def english_phrases(text: str) -> list[str]:
    """Runs of two or more English words in ``text``, leaving out commands, web addresses and
    glosses in brackets ("স্বাস্থ্য ও সেবা-যত্নের (health and care)")."""
    bare = GLOSS.sub(" ", URL.sub(" ", COMMAND.sub(" ", text)))
    return [m.group(0) for m in PHRASE.finditer(bare)]


def not_in(language: str, texts: Iterable[str]) -> list[str]:
    """The texts that are not wholly in ``language``: empty when all of them are.

    Not English: any Bengali letter. Not Bengali: English words, and no Bengali ones, or a
    phrase of English within the Bengali (an answer or question quoted from the source).
    """
    if language == "en":
        return [text for text in texts if is_bengali(text)]
    return [
        text for text in texts if language_of(text) not in (language, None) or english_phrases(text)
    ]


def without_scopes(text: str) -> str:
    """``text`` with any list of consent scopes after a colon left out."""
    return SCOPE_LIST.sub("", text)


# The titles of the shipped cards' sources: pages in English, cited by their own titles.
SOURCES = frozenset(s.title for card in LIBRARY.cards.values() for s in card.sources)


def without_sources(lines: Iterable[str]) -> list[str]:
    """The lines that cite no source of a card (by its title or web address)."""
    return [
        line
        for line in lines
        if not URL.search(line) and not any(title in line for title in SOURCES)
    ]
