"""Right-to-left text (Arabic, Urdu...) shown the right way round where it meets other text.

A display decides each line's direction, isolates the runs written in the other direction
(an English name or a number in an Arabic line, an Arabic quote in an English sentence) and
starts the line with the mark of its direction, so a chat client that guesses a line's
direction from its first letter guesses right. Only what is shown passes through here: stored
replies and exports' data keep the text as the person wrote it, so redaction and search see
no marks.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Direction = Literal["ltr", "rtl"]

# Languages written right to left, by their base subtag.
RIGHT_TO_LEFT = frozenset({"ar", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})
LRM, RLM = "\u200e", "\u200f"
LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"
# Embeddings, overrides and isolates already in a text: a display drops them and isolates
# runs itself, so someone's unclosed override cannot turn the rest of a bot's line around.
_EXPLICIT = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_RIGHT = frozenset({"R", "AL"})
_RIGHT_RUN = frozenset({"R", "AL", "AN"})  # what a right-to-left run may start and end with
_LEFT_RUN = frozenset({"L", "EN"})
_NOTHING = re.compile(r"(?!)")
_SPACE = frozenset({"WS", "S", "B"})
# The blocks of the scripts written right to left (Hebrew to NKo and Samaritan, Arabic's
# presentation forms, and their historic scripts): text without one needs no run isolated.
_RIGHT_TO_LEFT_LETTER = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
_BRACKETS = {")": "(", "]": "[", "}": "{"}
# What a left-to-right run in a right-to-left line keeps with it when written against it: a
# command's slash, a mention's @, a sign or a currency before it; a percent, a degree or the
# end of a link ("/", "=", "#"...) after it. Sentence punctuation stays outside.
_BEFORE = frozenset("/@#+-$£€")
_AFTER = frozenset("%°‰/=&#_~*+-")


def language_direction(language: str | None) -> Direction | None:
    """The direction a language is written in; None when no language is known."""
    if not language:
        return None
    return "rtl" if language.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"


def _classes(text: str) -> list[str]:
    return [unicodedata.bidirectional(char) for char in text]


def _direction(classes: list[str], language: str | None) -> Direction:
    left = right = 0  # words, each by its first letter: a long URL is one word
    counted = False
    for kind in classes:
        if kind in _SPACE:
            counted = False
        elif not counted and (kind == "L" or kind in _RIGHT):
            counted = True
            left, right = (left + 1, right) if kind == "L" else (left, right + 1)
    if left != right:
        return "ltr" if left > right else "rtl"
    return language_direction(language) or "ltr"


def direction(text: str, language: str | None = None) -> Direction:
    """The direction a line (or a quote) reads in.

    A line reads in the direction most of its words are written in: an Arabic sentence with
    an English name or "NHS" in it reads right to left, an English one quoting a few Arabic
    words left to right. A line without letters (or as many of each) reads in its language's
    direction, left to right when no language is known.
    """
    if text.isascii() and language_direction(language) != "rtl":
        return "ltr"
    return _direction(_classes(text.translate(_EXPLICIT)), language)


def for_display(
    text: str,
    language: str | None = None,
    markup: re.Pattern[str] = _NOTHING,
    lead: re.Pattern[str] = _NOTHING,
) -> str:
    """``text`` with direction marks for showing it, line by line (see ``direction``).

    In each line the runs of the other direction are isolated (LRI or RLI ... PDI), and a
    right-to-left line starts with RLM, a left-to-right one that starts with right-to-left
    letters with LRM. Spans matching ``markup`` (HTML tags and entities) are left whole and
    count as punctuation; a line's mark goes after what ``lead`` matches at its start
    (a Markdown list item's "1. " or "- "), so the Markdown still reads as a list.
    Text without a right-to-left letter in a left-to-right language comes back as it was.
    """
    if language_direction(language) != "rtl" and not _RIGHT_TO_LEFT_LETTER.search(text):
        return text if text.isascii() else text.translate(_EXPLICIT)
    return "\n".join(_line(line, language, markup, lead) for line in text.split("\n"))


def _line(line: str, language: str | None, markup: re.Pattern[str], lead: re.Pattern[str]) -> str:
    line = line.translate(_EXPLICIT)
    classes = _classes(line)
    for found in markup.finditer(line):
        classes[found.start() : found.end()] = ["ON"] * (found.end() - found.start())
    base = _direction(classes, language)
    at = leading.end() if (leading := lead.match(line)) else 0
    classes[:at] = ["ON"] * at  # a list item's "1. " stays as Markdown wrote it
    other, own = (_LEFT_RUN, _RIGHT) if base == "rtl" else (_RIGHT_RUN, {"L"})
    opening = LRI if base == "rtl" else RLI
    cuts: list[tuple[int, str]] = []  # (index, mark inserted before that index)
    start = last = -1
    for index, kind in enumerate(classes):
        if kind in other or (kind == "NSM" and start >= 0 and last == index - 1):
            if start < 0:
                start = index
            last = index  # a run keeps the vowel marks written over its last letter
        elif kind in own and start >= 0:
            cuts += _isolated(line, start, last + 1, opening)
            start = -1
    if start >= 0:
        cuts += _isolated(line, start, last + 1, opening)
    first_strong = next((k for k in classes if k == "L" or k in _RIGHT), "L")
    mark = RLM if base == "rtl" else LRM if first_strong in _RIGHT else ""
    if mark and not line.startswith(mark, at):  # marked once, however often shown
        cuts.insert(0, (at, mark))
    if not cuts:
        return line
    out, done = [], 0
    for index, inserted in sorted(cuts, key=lambda cut: cut[0]):
        out += [line[done:index], inserted]
        done = index
    out.append(line[done:])
    return "".join(out)


def _isolated(line: str, start: int, end: int, opening: str) -> list[tuple[int, str]]:
    """Where a run's isolate opens and closes; a left-to-right one takes its prefix and suffix."""
    if opening == LRI:
        while start > 0 and line[start - 1] in _BEFORE:
            start -= 1
        while end < len(line) and line[end] in _AFTER:
            end += 1
    # A bracket opened in the run closes in it, and one it closes opens in it: "[thoughts]".
    for closing, opener in _BRACKETS.items():
        while line.count(opener, start, end) > line.count(closing, start, end):
            if end < len(line) and line[end] == closing:
                end += 1
            else:
                break
        while line.count(closing, start, end) > line.count(opener, start, end):
            if start > 0 and line[start - 1] == opener:
                start -= 1
            else:
                break
    return [(start, opening), (end, PDI)]
