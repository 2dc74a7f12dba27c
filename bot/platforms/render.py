"""Rendering shared by every adapter: cards, choices and button fallbacks as text."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.content.models import Card, Image
from bot.content.scopes import Scope, in_order
from bot.core import cards
from bot.core.actions import AskChoice, Button
from bot.core.bidi import for_display
from bot.platforms.html import escape, escape_attribute, markdown_html
from bot.texts import Catalogue

# Tags and entities of HTML: kept whole, and read as punctuation, when marking directions.
HTML_MARKUP = re.compile(r"<[^>]*>|&#?\w+;")
# What starts a Markdown list item, quote or heading: a line's direction mark goes after it.
MARKDOWN_LEAD = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)]|>|#{1,3})[ \t]+")


def shown_html(html: str, language: str) -> str:
    """HTML (Telegram's) with direction marks in its text, never inside a tag or an entity."""
    return for_display(html, language, markup=HTML_MARKUP)


def shown_markdown(text: str, language: str) -> str:
    """Markdown (Discord's) with direction marks, each list item and quote still one."""
    return for_display(text, language, lead=MARKDOWN_LEAD)


def card_text(card: Card, texts: Catalogue, language: str) -> str:
    """A resource card as plain text: title, summary, body, picture description, sources."""
    return cards.card_text(card, lambda key, **params: texts.get(language, key, **params))


def choice_text(choice: AskChoice, texts: Catalogue, language: str) -> str:
    """A choice question as text, numbered so '/vote N' works without buttons."""
    lines = [choice.text, ""]
    lines += [f"{number}. {option}" for number, option in enumerate(choice.options, start=1)]
    hint = "step.choice_hint_multiple" if choice.multiple else "step.choice_hint"
    lines += ["", choice.hint or texts.get(language, hint)]
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


def shorten(text: str, limit: int) -> str:
    """Text cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def offered_scopes(buttons: tuple[Button, ...]) -> tuple[Scope, ...]:
    """The consent scopes the core's 'agree ...' buttons offer, in the canonical order."""
    named = {word for b in buttons if b.payload.startswith("agree ") for word in b.payload.split()}
    return in_order(named)


@dataclass(frozen=True, slots=True)
class EmbedLimits:
    """How much one embed and one message of embeds may hold."""

    title: int = 256
    description: int = 4096
    fields: int = 25
    field_name: int = 256
    field_value: int = 1024
    footer: int = 2048
    total: int = 6000
    per_message: int = 10


DISCORD_EMBEDS = EmbedLimits()


@dataclass(frozen=True, slots=True)
class Panel:
    """A titled block with fields and an optional picture (a Discord embed, without Discord)."""

    title: str = ""
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    image: Image | None = None

    @property
    def size(self) -> int:
        """Characters counted against a message's total (title, text, fields, footer)."""
        fields = sum(len(name) + len(value) for name, value in self.fields)
        return len(self.title) + len(self.description) + fields + len(self.footer)


def card_panels(
    card: Card, texts: Catalogue, language: str, limits: EmbedLimits = DISCORD_EMBEDS
) -> list[Panel]:
    """A card as panels within ``limits``: the text split across panels, sources as fields."""
    title = shorten(card.title, limits.title)
    footer = ""
    if card.image is not None:
        footer = shorten(texts.get(language, "step.card_image", alt=card.image.alt), limits.footer)
    room = min(limits.description, limits.total - len(title) - len(footer))
    pieces = split_text(f"{card.summary}\n\n{card.body}", room)
    panels = [Panel(title, pieces[0], footer=footer, image=card.image)]
    panels += [Panel(description=piece) for piece in pieces[1:]]
    for source in card.sources:
        field = (shorten(source.title, limits.field_name), shorten(source.url, limits.field_value))
        last = panels[-1]
        fits = last.size + len(field[0]) + len(field[1]) <= limits.total
        if fits and len(last.fields) < limits.fields:
            panels[-1] = replace(last, fields=(*last.fields, field))
        else:
            panels.append(Panel(fields=(field,)))
    return panels


def pack_panels(panels: list[Panel], limits: EmbedLimits = DISCORD_EMBEDS) -> list[list[Panel]]:
    """Panels grouped into messages: at most ``per_message`` each, within the total size."""
    messages: list[list[Panel]] = []
    for panel in panels:
        current = messages[-1] if messages else None
        if (
            current is not None
            and len(current) < limits.per_message
            and sum(p.size for p in current) + panel.size <= limits.total
        ):
            current.append(panel)
        else:
            messages.append([panel])
    return messages


def card_html(card: Card, texts: Catalogue, language: str, picture_line: bool = True) -> str:
    """A resource card in Telegram HTML: bold title, summary, the Markdown body, sources.

    ``picture_line`` adds the picture's description (leave it out when the picture is sent
    with the description as its caption).
    """
    parts = [
        f"<b>{escape(card.title)}</b>\n<i>{escape(card.summary)}</i>",
        markdown_html(card.body),
    ]
    if card.image is not None and picture_line:
        parts.append(escape(texts.get(language, "step.card_image", alt=card.image.alt)))
    if card.sources:
        links = [
            f'• <a href="{escape_attribute(source.url)}">{escape(source.title)}</a>'
            for source in card.sources
        ]
        heading = f"<b>{escape(texts.get(language, 'step.card_sources'))}</b>"
        parts.append("\n".join([heading, *links]))
    return "\n\n".join(parts)


def choice_html(choice: AskChoice, texts: Catalogue, language: str) -> str:
    """A choice question in Telegram HTML, numbered so '/vote N' works without buttons."""
    return escape(choice_text(choice, texts, language))
