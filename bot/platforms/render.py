"""Rendering shared by every adapter: cards, choices and button fallbacks as text."""

from __future__ import annotations

from bot.content.models import Card
from bot.core.actions import AskChoice, Button
from bot.texts import Catalogue


def card_text(card: Card, texts: Catalogue, language: str) -> str:
    """A resource card as plain text: title, summary, body, picture description, sources."""
    lines = [card.title.upper(), card.summary, "", card.body]
    if card.image is not None:
        lines += ["", texts.get(language, "step.card_image", alt=card.image.alt)]
    lines += ["", texts.get(language, "step.card_sources") + ":"]
    lines += [f"- {source.title}: {source.url}" for source in card.sources]
    return "\n".join(lines)


def choice_text(choice: AskChoice, texts: Catalogue, language: str) -> str:
    """A choice question as text, numbered so '/vote N' works without buttons."""
    lines = [choice.text, ""]
    lines += [f"{number}. {option}" for number, option in enumerate(choice.options, start=1)]
    hint = "step.choice_hint_multiple" if choice.multiple else "step.choice_hint"
    lines += ["", texts.get(language, hint)]
    return "\n".join(lines)


def buttons_text(buttons: tuple[Button, ...]) -> str:
    """The text-command twin of each button, for clients without buttons."""
    return "\n".join(f"[{button.label}: {button.command}]" for button in buttons)


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most ``limit`` characters, at line or word breaks."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces
