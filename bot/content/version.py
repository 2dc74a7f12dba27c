"""A content version: one script with the cards it shows, named by the hash of its content.

Every session records the version it ran, and the version's content is kept in the database,
so its answers are labelled with what people saw however the files change later. The hash is
SHA-256 of a canonical JSON of the loaded models (keys sorted, no spaces, UTF-8): edits that do
not change what the bot loads (comments, layout) make no new version; any change it shows does.

"What we heard" cards (those with a ``cycle``) are left out: they quote participants, whose
words must leave with them when they withdraw, so they are always shown from the files, where
staff can take a quote out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.content.heard import references
from bot.content.models import Card, Script


@dataclass(frozen=True, slots=True)
class Version:
    """A script and the cards it shows (by id), as one content version ran them."""

    digest: str
    script: Script
    cards: Mapping[str, Card]

    def document(self) -> dict[str, Any]:
        """The version's content as JSON data (what the database keeps)."""
        return _document(self.script, self.cards)


def version_of(script: Script, cards: Mapping[str, Card]) -> Version:
    """The version of ``script`` with the cards of ``cards`` it shows or quotes (but quotes)."""
    used = sorted(
        {c for step in script.steps for c in step.cards}
        | {r.card for step in script.steps for r in references(step.text)}
    )
    shown = {c: cards[c] for c in used if c in cards and cards[c].cycle is None}
    return Version(_digest(_document(script, shown)), script, shown)


def from_document(digest: str, document: Mapping[str, Any]) -> Version:
    """A version read back from the database, under the digest it was kept by.

    Raises pydantic's ValidationError if the content no longer fits the models.
    """
    script = Script.model_validate(document["script"])
    cards = {c: Card.model_validate(data) for c, data in document["cards"].items()}
    return Version(digest, script, cards)


def _document(script: Script, cards: Mapping[str, Card]) -> dict[str, Any]:
    return {
        "script": script.model_dump(mode="json"),
        "cards": {c: cards[c].model_dump(mode="json") for c in sorted(cards)},
    }


def _digest(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
