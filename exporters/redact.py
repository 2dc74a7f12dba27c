"""Redaction of personal details in free text: each found detail becomes ``[kind]``.

One combined pattern scans each text once. NHS numbers count only with a valid check digit,
so other ten-digit numbers are left to the phone pattern (or left alone).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

KINDS = ("email", "url", "nhs_number", "phone", "postcode", "mention")

_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    # A scheme or www., or a bare domain followed by a path ("example.org/page").
    # A URL does not end with the punctuation of the sentence around it.
    "url": r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)]"
    r"|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/(?:[^\s<>\"]*[^\s<>\".,;:!?)])?",
    "nhs_number": r"(?<![\d+])\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)",
    # UK numbers: 0 or +44 (optionally "(0)"), then nine or ten more digits, spaced or not.
    "phone": r"(?:(?<![\w+])\+44[ -]?(?:\(0\)[ -]?)?|(?<![\w+])\(?0)\d(?:[ )-]{0,2}\d){8,9}(?!\d)",
    "postcode": r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b",
    "mention": r"(?<![\w.@])@[A-Za-z0-9_]{2,}",
}
_NHS_WEIGHTS = range(10, 1, -1)
# Every kind needs a digit, an @, a slash or "www."; most replies have none of them, and
# these two scans are much cheaper than the full pattern.
_MAYBE = re.compile(r"[@\d/]")
_PHONE = re.compile(_PATTERNS["phone"])


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

        return self._pattern.sub(replace, text), found
