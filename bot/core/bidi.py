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
# What a left-to-right run in a right-to-left line keeps with it when written against it: a
# command's slash, a mention's @, a sign or a currency before it; a percent or degree after it.
_BEFORE = frozenset("/@#+-$£€")
_AFTER = frozenset("%°‰")


def language_direction(language: str | None) -> Direction | None:
    """The direction a language is written in; None when no language is known."""
    if not language:
        return None
    return "rtl" if language.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"


def _classes(text: str) -> list[str]:
    return [unicodedata.bidirectional(char) for char in text]


def _direction(classes: list[str], language: str | None) -> Direction:
    wanted = language_direction(language)
    if wanted == "rtl" and any(kind in _RIGHT for kind in classes):
        return "rtl"
    if wanted == "ltr" and "L" in classes:
        return "ltr"
    for kind in classes:
        if kind == "L":
            return "ltr"
        if kind in _RIGHT:
            return "rtl"
    return wanted or "ltr"


def direction(text: str, language: str | None = None) -> Direction:
    """The direction a line (or a quote) reads in.

    A line with letters of its language's direction reads in that direction (an Arabic
    message that starts with a command or an English name is still right to left); any other
    line reads in the direction of its first letter; a line without letters in its language's
    (left to right when none is known).
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
    Text of plain ASCII in a left-to-right language comes back as it was.
    """
    if text.isascii() and language_direction(language) != "rtl":
        return text
    return "\n".join(_line(line, language, markup, lead) for line in text.split("\n"))


def _line(line: str, language: str | None, markup: re.Pattern[str], lead: re.Pattern[str]) -> str:
    line = line.translate(_EXPLICIT)
    classes = _classes(line)
    for found in markup.finditer(line):
        classes[found.start() : found.end()] = ["ON"] * (found.end() - found.start())
    base = _direction(classes, language)
    other, own = (_LEFT_RUN, _RIGHT) if base == "rtl" else (_RIGHT_RUN, {"L"})
    opening = LRI if base == "rtl" else RLI
    cuts: list[tuple[int, str]] = []  # (index, mark inserted before that index)
    start = last = -1
    for index, kind in enumerate(classes):
        if kind in other:
            if start < 0:
                start = index
            last = index
        elif kind in own and start >= 0:
            cuts += _isolated(line, start, last + 1, opening)
            start = -1
    if start >= 0:
        cuts += _isolated(line, start, last + 1, opening)
    first_strong = next((k for k in classes if k == "L" or k in _RIGHT), "L")
    mark = RLM if base == "rtl" else LRM if first_strong in _RIGHT else ""
    at = leading.end() if (leading := lead.match(line)) else 0
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
    return [(start, opening), (end, PDI)]
