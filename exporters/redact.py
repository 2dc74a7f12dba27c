"""Redaction of personal details in free text: each found detail becomes ``[kind]``.

One combined pattern scans each text once; then phone numbers of any country are found with
the ``phonenumbers`` package's matcher (as in libphonenumber: valid numbers only, read as UK
numbers when they have no country code). NHS numbers count only with a valid check digit, so
other ten-digit numbers are left to the phone patterns (or left alone). A date is taken for a
date of birth when its year is 1900 to 2015: dates of meetings are recent, birthdays of
adults are not. An address is a house number and a capitalised street name ending in a street
word ("12 Acacia Avenue"), or a street followed by a postcode; with its town and postcode it
becomes one ``[address]``. Mentions are every platform's: @name, Discord's <@id>, <@!id>,
<@&role> and <#channel>, and Telegram's tg://user?id= links.

An export redacts a column of replies at once (``Redactor.column``): Arrow's RE2 picks the
texts that hold a digit, an @, a slash or "www." across the whole batch, and only those go
through the patterns above. RE2 has no look-around, which the NHS, phone and mention patterns
need, so the patterns themselves stay Python's and the result is the row-wise one exactly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.settings import REDACT_KINDS

if TYPE_CHECKING:
    import pyarrow as pa

# The kinds of detail redaction finds, in the order they are tried: one list, the settings'.
KINDS: tuple[str, ...] = REDACT_KINDS
_POSTCODE = r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b"
_STREET = (
    r"(?-i:(?:[A-Z][a-z'’-]+ ){1,3}(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Way|"
    r"Court|Place|Crescent|Gardens|Terrace|Grove|Hill|Square|Walk|Row|Mews|Park|Parade|Rise|"
    r"View|Green|Estate)\b\.?)"
)
_TOWN = r"(?:,? (?-i:[A-Z][a-z'’-]+)){0,2}"
_YEAR = r"(?:19\d\d|200\d|201[0-5])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"

_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    # A scheme or www., or a bare domain followed by a path ("example.org/page").
    # A URL does not end with the punctuation of the sentence around it.
    "url": r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)]"
    r"|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/(?:[^\s<>\"]*[^\s<>\".,;:!?)])?",
    "address": rf"(?:(?:flat|apartment|unit) \d+[a-z]?,? )?\b\d{{1,4}}[a-z]?,? {_STREET}{_TOWN}"
    rf"(?:,? {_POSTCODE})?|{_STREET}{_TOWN},? {_POSTCODE}",
    # Not after a country code: "+1 415 555 2671" is a phone number.
    "nhs_number": r"(?<![\d+])(?<!\+\d )(?<!\+\d\d )(?<!\+\d\d\d )"
    r"\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)",
    # Two letters (never D, F, I, Q, U or V; O not second; not BG, GB, KN, NK, NT, TN or ZZ),
    # six digits, and A to D.
    "ni_number": r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    "date_of_birth": rf"\b{_DAY}[/.-](?:0?[1-9]|1[0-2])[/.-]{_YEAR}\b"
    rf"|\b{_DAY}(?:st|nd|rd|th)? (?:of )?{_MONTH},? {_YEAR}\b"
    rf"|\b{_MONTH} {_DAY}(?:st|nd|rd|th)?,? {_YEAR}\b",
    # UK numbers: 0 or +44 (optionally "(0)"), then nine or ten more digits, spaced or not.
    "phone": r"(?:(?<![\w+])\+44[ -]?(?:\(0\)[ -]?)?|(?<![\w+])\(?0)\d(?:[ )-]{0,2}\d){8,9}(?!\d)",
    "postcode": _POSTCODE,
    "mention": r"<@[!&]?\d+>|<#\d+>|tg://user\?id=\d+|(?<![\w.@])@[A-Za-z0-9_]{2,}",
}
_NHS_WEIGHTS = range(10, 1, -1)
# Every kind needs a digit, an @, a slash or "www."; most replies have none of them, and
# these two scans are much cheaper than the full pattern. (A street with a postcode has the
# postcode's digits.)
_MAYBE = re.compile(r"[@\d/]")
# The same test in RE2 for a whole column; \p{N} holds every digit Python's \d does.
_MAYBE_RE2 = r"[@/\p{N}]|(?i:www\.)"
_PHONE = re.compile(_PATTERNS["phone"])
_DIGITS = re.compile(r"\d")
_FEWEST_DIGITS = 7  # no country's phone numbers are shorter


def one_line(text: str) -> str:
    r"""The text with every run of white space made one space (a quote, as exports show it).

    ``str.split`` cuts at the white space ``\s`` matches and ``strip`` removes (the same 29
    characters), at a fifth of a regular expression's cost: every reply to a prompt goes
    through here.
    """
    return " ".join(text.split())


def valid_nhs_number(digits: str) -> bool:
    """Whether ten digits pass the NHS number's modulus 11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


class Redactor:
    """Replaces the configured kinds of personal detail and counts what it replaced."""

    def __init__(self, kinds: Iterable[str] = KINDS) -> None:
        chosen = list(dict.fromkeys(kinds))
        unknown = sorted(set(chosen) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown redaction kinds {unknown}; known: {', '.join(KINDS)}")
        self.kinds = tuple(k for k in KINDS if k in chosen)
        self.counts: Counter[str] = Counter({k: 0 for k in self.kinds})
        # Order matters: an e-mail holds a domain and an @, an NHS number looks like a phone.
        self._pattern = (
            re.compile("|".join(f"(?P<{k}>{_PATTERNS[k]})" for k in self.kinds), re.IGNORECASE)
            if self.kinds
            else None
        )

    def __call__(self, text: str) -> tuple[str, int]:
        """The text with details replaced, and how many were."""
        if self._pattern is None or not (_MAYBE.search(text) or "www." in text.lower()):
            return text, 0
        found = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            kind = match.lastgroup or ""
            value = match.group()
            if kind == "nhs_number" and not valid_nhs_number(re.sub(r"\D", "", value)):
                if "phone" not in self.kinds or not _PHONE.fullmatch(value):
                    return value
                kind = "phone"
            found += 1
            self.counts[kind] += 1
            return f"[{kind.replace('_', '-')}]"

        text = self._pattern.sub(replace, text)
        if "phone" in self.kinds and len(_DIGITS.findall(text)) >= _FEWEST_DIGITS:
            text, more = self._phones(text)
            found += more
        return text, found

    def _phones(self, text: str) -> tuple[str, int]:
        """Phone numbers of any country the combined pattern left (libphonenumber's matcher)."""
        # Imported here: its metadata costs a command that never redacts a tenth of a second.
        import phonenumbers

        parts: list[str] = []
        at = found = 0
        for match in phonenumbers.PhoneNumberMatcher(text, "GB"):
            parts += [text[at : match.start], "[phone]"]
            at = match.end
            found += 1
        self.counts["phone"] += found
        return "".join(parts) + text[at:], found

    def column(self, texts: pa.Array) -> tuple[pa.Array, pa.Array]:
        """A column of texts redacted and each text's count: the same as calling this on each."""
        # Imported here: the bot redacts single texts and need not load Arrow.
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pa.array([0] * len(texts), pa.int64())
        if self._pattern is None or not len(texts):
            return texts, found
        maybe = pc.fill_null(pc.match_substring_regex(texts, _MAYBE_RE2), False)
        chosen = pc.filter(texts, maybe).to_pylist()
        if not chosen:
            return texts, found
        done = [self(text) for text in chosen]
        redacted = pa.array([text for text, _ in done], texts.type)
        counts = pa.array([n for _, n in done], pa.int64())
        return pc.replace_with_mask(texts, maybe, redacted), pc.replace_with_mask(
            found, maybe, counts
        )
