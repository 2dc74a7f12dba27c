"""A resource card as plain text, for every place that shows one without formatting."""

from __future__ import annotations

from collections.abc import Callable

from bot.content.models import Card

Say = Callable[..., str]


def card_text(card: Card, say: Say) -> str:
    """Title, summary, body, picture description and sources; ``say`` reads the catalogue."""
    lines = [card.title.upper(), card.summary, "", card.body]
    if card.image is not None:
        lines += ["", say("step.card_image", alt=card.image.alt)]
    if card.sources:
        lines += ["", say("step.card_sources") + ":"]
        lines += [f"- {source.title}: {source.url}" for source in card.sources]
    return "\n".join(lines)
