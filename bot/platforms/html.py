"""Markdown and plain text as Telegram HTML, and HTML split at a length without breaking tags.

Telegram's HTML knows only inline tags (b, i, s, code, pre, a, blockquote...), so headings
become bold lines and lists become bullet lines; everything else is escaped text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token

_INLINE_TAGS = {
    "strong_open": "<b>",
    "strong_close": "</b>",
    "em_open": "<i>",
    "em_close": "</i>",
    "s_open": "<s>",
    "s_close": "</s>",
}
_SAFE_LINK = re.compile(r"^(https?|mailto|tg):", re.IGNORECASE)
# A tag, an entity, or a run of other text: the units a split may not cut into.
_PIECES = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+")
_TAG_NAME = re.compile(r"</?([a-zA-Z-]+)")


def escape(text: str) -> str:
    """Plain text made safe for Telegram HTML (&, < and > escaped)."""
    return html.escape(text, quote=False)


def escape_attribute(value: str) -> str:
    """A value made safe inside a double-quoted HTML attribute (a link's href)."""
    return html.escape(value, quote=True)


def markdown_html(markdown: str) -> str:
    """Markdown (a card's body) as Telegram HTML; raw HTML in it is shown as text."""
    # Imported here: the console shows cards as plain text and never needs a Markdown parser.
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("strikethrough")
    out: list[str] = []
    lists: list[list[int]] = []  # one counter per open list; [0] marks a bullet list
    for token in parser.parse(markdown):
        out.append(_block(token, lists))
    text = re.sub(r"\s+</blockquote>", "</blockquote>", "".join(out))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _block(token: Token, lists: list[list[int]]) -> str:
    kind = token.type
    if kind == "inline":
        return _inline(token.children or [])
    if kind == "heading_open":
        return "<b>"
    if kind == "heading_close":
        return "</b>\n\n"
    if kind == "paragraph_close":
        return "\n" if token.hidden else "\n\n"
    if kind in ("bullet_list_open", "ordered_list_open"):
        start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else 0
        lists.append([start])
        return ""
    if kind in ("bullet_list_close", "ordered_list_close"):
        lists.pop()
        return "" if lists else "\n"
    if kind == "list_item_open" and lists:
        counter = lists[-1]
        indent = "  " * (len(lists) - 1)
        if counter[0] == 0:
            return f"{indent}• "
        counter[0] += 1
        return f"{indent}{counter[0] - 1}. "
    if kind == "blockquote_open":
        return "<blockquote>"
    if kind == "blockquote_close":
        return "</blockquote>\n\n"
    if kind in ("fence", "code_block"):
        return f"<pre>{escape(token.content.rstrip())}</pre>\n\n"
    if kind == "hr":
        return "———\n\n"
    if kind == "html_block":
        return escape(token.content)
    return ""


def _inline(children: Sequence[Token]) -> str:
    out: list[str] = []
    links: list[bool] = []  # whether each open link was written as a tag
    for child in children:
        kind = child.type
        if kind in _INLINE_TAGS:
            out.append(_INLINE_TAGS[kind])
        elif kind == "link_open":
            href = str(child.attrGet("href") or "")
            safe = bool(_SAFE_LINK.match(href))
            links.append(safe)
            if safe:
                out.append(f'<a href="{escape_attribute(href)}">')
        elif kind == "link_close":
            if links.pop():
                out.append("</a>")
        elif kind == "code_inline":
            out.append(f"<code>{escape(child.content)}</code>")
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "image":
            out.append(escape(child.content))
        else:  # text, and raw inline HTML shown as the text it is
            out.append(escape(child.content))
    return "".join(out)


def visible_length(fragment: str) -> int:
    """How long Telegram counts an HTML fragment: its text (UTF-16 units), without tags."""
    length = 0
    for piece in _PIECES.findall(fragment):
        if piece.startswith("<"):
            continue
        text = html.unescape(piece)
        length += len(text.encode("utf-16-le")) // 2
    return length


def split_html(fragment: str, limit: int) -> list[str]:
    """Split HTML into pieces of at most ``limit`` visible characters, each well-formed.

    Cuts fall at line breaks or spaces where possible; tags open at a cut are closed and
    opened again in the next piece.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    open_tags: list[tuple[str, str]] = []  # (name, opening tag as written)

    def flush() -> None:
        nonlocal current, size
        closing = "".join(f"</{name}>" for name, _ in reversed(open_tags))
        piece = ("".join(current) + closing).strip()
        if visible_length(piece) and piece:
            pieces.append(piece)
        current = [tag for _, tag in open_tags]
        size = 0

    for piece in _PIECES.findall(fragment):
        if piece.startswith("<"):
            name_match = _TAG_NAME.match(piece)
            name = name_match.group(1).lower() if name_match else ""
            if piece.startswith("</"):
                if open_tags and open_tags[-1][0] == name:
                    open_tags.pop()
            else:
                open_tags.append((name, piece))
            current.append(piece)
            continue
        text = piece
        while size + visible_length(text) > limit:
            if piece.startswith("&"):  # an entity is one character: it starts the next piece
                flush()
                break
            room = limit - size
            cut = _cut_at(text, room)
            if cut == 0 and size > 0:
                flush()
                continue
            cut = cut or room
            while cut > 1 and visible_length(text[:cut]) > room:  # wide characters
                cut -= 1
            current.append(text[:cut])
            flush()
            text = text[cut:].lstrip(" \n")
        if text:
            current.append(text)
            size += visible_length(text)
    flush()
    return pieces or [""]


def _cut_at(text: str, room: int) -> int:
    """Where to cut plain text so at most ``room`` characters stay: a line break, a space."""
    window = text[:room]
    for mark in ("\n\n", "\n", " "):
        at = window.rfind(mark)
        if at > 0:
            return at
    return 0
