"""Quoting an earlier cycle's "what we heard" card in a prompt: ``{{heard:CARD#N}}``.

A card's statements are its numbered list items (``1. ...``), counted from the top of the
body, so staff can reorder, cut or add statements by editing the list. A step's text may
quote statement N of a card with ``{{heard:CARD#N}}``; the bot fills it in when the step is
shown, and ``dialogue content check`` reports references to unknown cards or statements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.content.models import Card

STATEMENT = re.compile(r"^ {0,3}\d{1,3}[.)]\s+(?P<text>\S.*)$", re.MULTILINE)
REFERENCE = re.compile(r"\{\{\s*heard:(?P<card>[a-z0-9][a-z0-9-]*)#(?P<number>\d+)\s*\}\}")
OPENING = re.compile(r"\{\{")
QUOTE_MARKS = "“”\"' "


@dataclass(frozen=True, slots=True)
class Reference:
    """One ``{{heard:CARD#N}}`` in a text (``number`` counts from 1)."""

    card: str
    number: int


def statements(card: Card) -> tuple[str, ...]:
    """The card's numbered statements, in order."""
    return tuple(m["text"].strip() for m in STATEMENT.finditer(card.body))


def references(text: str) -> list[Reference]:
    """Every well-formed reference in ``text``."""
    return [Reference(m["card"], int(m["number"])) for m in REFERENCE.finditer(text)]


def malformed(text: str) -> int:
    """How many ``{{`` in ``text`` do not start a well-formed reference."""
    return len(OPENING.findall(text)) - len(REFERENCE.findall(text))


def problem(reference: Reference, cards: Mapping[str, Card]) -> str | None:
    """What is wrong with a reference, or None when it points at a statement."""
    card = cards.get(reference.card)
    if card is None:
        return f"no card has the id '{reference.card}'; add resources/{reference.card}.md"
    count = len(statements(card))
    if not 1 <= reference.number <= count:
        return (
            f"card '{reference.card}' has {count} numbered statements, so "
            f"#{reference.number} does not exist; use a number from 1 to {count}"
        )
    return None


def fill(text: str, cards: Mapping[str, Card]) -> str:
    """``text`` with each reference replaced by the statement it names, in quotation marks."""

    def quote(match: re.Match[str]) -> str:
        reference = Reference(match["card"], int(match["number"]))
        if problem(reference, cards) is not None:
            # Content check reports these; participants never see the raw placeholder.
            return "…"
        statement = statements(cards[reference.card])[reference.number - 1]
        return f"“{statement.strip(QUOTE_MARKS)}”"

    return REFERENCE.sub(quote, text)
