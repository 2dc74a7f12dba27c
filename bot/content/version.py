"""A content version: one script with the cards it shows, named by the hash of its content.

Every session records the version it ran, and the version's content is kept in the database,
so its answers are labelled with what people saw however the files change later. The hash is
SHA-256 of a canonical JSON of the loaded models (keys sorted, no spaces, UTF-8): edits that do
not change what the bot loads (comments, layout) make no new version; any change it shows does.

A version holds the script's and its cards' translations too, by language, so a session
started in Bengali keeps its words when the Bengali files change. Content without
translations hashes as it did before translations existed.

"What we heard" cards (those with a ``cycle``) are left out: they quote participants, whose
words must leave with them when they withdraw, so they are always shown from the files, where
staff can take a quote out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.content.heard import references
from bot.content.models import Card, Script
from bot.content.translation import pick


@dataclass(frozen=True, slots=True)
class Version:
    """A script and the cards it shows (by id), and their translations, as one version ran them."""

    digest: str
    script: Script
    cards: Mapping[str, Card]
    # The script in other languages, by language; the cards in other languages, by id, language.
    scripts_in: Mapping[str, Script] = field(default_factory=dict)
    cards_in: Mapping[str, Mapping[str, Card]] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The version's content as JSON data (what the database keeps)."""
        return _document(self.script, self.cards, self.scripts_in, self.cards_in)

    def script_in(self, language: str, source: str) -> Script:
        """The script in ``language``, else along its fallback chain to ``source``'s."""
        found = {self.script.language: self.script, **self.scripts_in}
        return pick(language, source, found) or self.script

    def card_in(self, card_id: str, language: str, source: str) -> Card | None:
        """A card this version shows, in ``language`` or along its fallback chain."""
        card = self.cards.get(card_id)
        if card is None:
            return None
        return (
            pick(language, source, {card.language: card, **self.cards_in.get(card_id, {})}) or card
        )


def version_of(
    script: Script,
    cards: Mapping[str, Card],
    scripts_in: Mapping[str, Script] | None = None,
    cards_in: Mapping[str, Mapping[str, Card]] | None = None,
) -> Version:
    """The version of ``script`` with the cards it shows (but quotes), translations included.

    ``scripts_in`` holds the script's translations by language, ``cards_in`` every card's by
    id and language.
    """
    used = sorted(
        {c for step in script.steps for c in step.cards}
        | {r.card for step in script.steps for r in references(step.text)}
    )
    shown = {c: cards[c] for c in used if c in cards and cards[c].cycle is None}
    translated = {c: dict(cards_in[c]) for c in shown if cards_in and cards_in.get(c)}
    own = dict(scripts_in or {})
    return Version(
        _digest(_document(script, shown, own, translated)), script, shown, own, translated
    )


def from_document(digest: str, document: Mapping[str, Any]) -> Version:
    """A version read back from the database, under the digest it was kept by.

    Raises pydantic's ValidationError if the content no longer fits the models.
    """
    script = Script.model_validate(document["script"])
    cards = {c: Card.model_validate(data) for c, data in document["cards"].items()}
    kept = document.get("translations", {})
    scripts_in = {
        lang: Script.model_validate(data) for lang, data in kept.get("scripts", {}).items()
    }
    cards_in = {
        c: {lang: Card.model_validate(data) for lang, data in by_language.items()}
        for c, by_language in kept.get("cards", {}).items()
    }
    return Version(digest, script, cards, scripts_in, cards_in)


def _document(
    script: Script,
    cards: Mapping[str, Card],
    scripts_in: Mapping[str, Script],
    cards_in: Mapping[str, Mapping[str, Card]],
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "script": script.model_dump(mode="json"),
        "cards": {c: cards[c].model_dump(mode="json") for c in sorted(cards)},
    }
    if scripts_in or cards_in:
        # Only when there are some: a version without translations keeps its old digest.
        document["translations"] = {
            "scripts": {lang: s.model_dump(mode="json") for lang, s in scripts_in.items()},
            "cards": {
                c: {lang: card.model_dump(mode="json") for lang, card in by_language.items()}
                for c, by_language in cards_in.items()
            },
        }
    return document


def _digest(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
