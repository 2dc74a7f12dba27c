"""Text formatting as the Bot API does it: the HTML parse mode (the only one the bot sends),
entities, trimming, lengths.

The parser follows the Bot API "Formatting options" documentation; error texts follow the
wording Telegram returns (``can't parse entities: ...`` with a byte offset into the UTF-8
encoded input). Entity offsets and lengths are in UTF-16 code units, as in the real API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSONDict = dict[str, Any]

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)

_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}

_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# Order used when two entities start at the same offset and have the same length.
_TYPE_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 1,
    "code": 2,
    "text_link": 3,
    "text_mention": 3,
    "custom_emoji": 3,
    "date_time": 3,
    "bold": 4,
    "italic": 5,
    "underline": 6,
    "strikethrough": 7,
    "spoiler": 8,
}

_DATE_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")


class EntityParseError(ValueError):
    """Raised when a text cannot be parsed in the requested parse mode.

    Attributes:
        reason: The reason as Telegram words it, without the ``can't parse entities:`` prefix.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units (the unit of entity offsets).

    Args:
        text: Any string.

    Returns:
        The number of UTF-16 code units.
    """
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _Open:
    tag: str
    argument: str | None
    start: int  # UTF-16 offset in the output
    begin: int  # index of "<" in the input
    extra: str | None = None


def normalize_url(url: str) -> str | None:
    """Normalize a link target the way Telegram does, or return None if it is not a URL.

    Args:
        url: The href / link target given by the bot.

    Returns:
        The normalized URL (scheme added, ``/`` path added for bare hosts) or None.
    """
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    if "://" not in url and not url.startswith("tg:"):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "tg":
        return url
    if scheme not in {"http", "https", "ftp", "ton"}:
        return None
    host = parts.hostname or ""
    if not host or ("." not in host and host != "localhost"):
        return None
    if not parts.path and not parts.query and not parts.fragment:
        url += "/"
    return url


def _user_id_from_tg_url(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.scheme.lower() != "tg" or parts.netloc.lower() != "user":
        return None
    values = parse_qs(parts.query).get("id", [])
    if values and values[0].isdigit():
        return int(values[0])
    return None


class _EntityBuilder:
    """Turns closed markup spans into Bot API entity dicts."""

    def __init__(self, known_users: dict[int, JSONDict]) -> None:
        self.entities: list[JSONDict] = []
        self.known_users = known_users

    def add(self, kind: str, offset: int, length: int, **extra: Any) -> None:
        if length <= 0:
            return
        entity: JSONDict = {"offset": offset, "length": length, "type": kind}
        entity.update({key: value for key, value in extra.items() if value is not None})
        self.entities.append(entity)

    def add_link(self, offset: int, length: int, url: str) -> None:
        user_id = _user_id_from_tg_url(url)
        if user_id is not None:
            user = self.known_users.get(user_id)
            if user is not None:
                self.add("text_mention", offset, length, user=dict(user))
            return
        normalized = normalize_url(url)
        if normalized is not None:
            self.add("text_link", offset, length, url=normalized)

    def add_custom_emoji(self, offset: int, length: int, emoji_id: str | None) -> None:
        if not emoji_id or not emoji_id.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        self.add("custom_emoji", offset, length, custom_emoji_id=emoji_id)

    def add_date_time(self, offset: int, length: int, unix: str | None, fmt: str | None) -> None:
        if unix is None or not re.fullmatch(r"-?\d+", unix):
            raise EntityParseError("Invalid Unix time specified")
        fmt = fmt or ""
        if not _DATE_TIME_FORMAT.fullmatch(fmt):
            raise EntityParseError("Invalid date and time format specified")
        self.add("date_time", offset, length, unix_time=int(unix), date_time_format=fmt or None)


def _decode_html_entity(text: str, index: int) -> tuple[str | None, int]:
    """Decode an HTML entity at ``text[index] == '&'``; return (decoded or None, next index)."""
    n = len(text)
    pos = index + 1
    if pos < n and text[pos] == "#":
        pos += 1
        if pos < n and text[pos] in "xX":
            pos += 1
            start = pos
            while pos < n and text[pos] in "0123456789abcdefABCDEF":
                pos += 1
            digits, base = text[start:pos], 16
        else:
            start = pos
            while pos < n and text[pos].isdigit():
                pos += 1
            digits, base = text[start:pos], 10
        if not digits:
            return None, index
        code = int(digits, base)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None, index
        decoded = chr(code)
    else:
        start = pos
        while pos < n and text[pos].isascii() and text[pos].isalpha():
            pos += 1
        decoded_named = _NAMED_HTML_ENTITIES.get(text[start:pos])
        if decoded_named is None:
            return None, index
        decoded = decoded_named
    if pos < n and text[pos] == ";":
        pos += 1
    return decoded, pos


def parse_html(
    text: str, known_users: dict[int, JSONDict] | None = None
) -> tuple[str, list[JSONDict]]:
    """Parse Bot API HTML into plain text and entities.

    Args:
        text: The text with HTML markup.
        known_users: Users that ``tg://user?id=`` links may mention, by id.

    Returns:
        The plain text and the list of entity dicts.

    Raises:
        EntityParseError: If the markup is invalid, with Telegram's wording.
    """
    builder = _EntityBuilder(known_users or {})
    out: list[str] = []
    pos16 = 0
    stack: list[_Open] = []
    n = len(text)
    i = 0

    def unclosed_start(begin: int) -> EntityParseError:
        return EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")

    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, j = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                pos16 += utf16_len(decoded)
                i = j
                continue
        if ch != "<":
            out.append(ch)
            pos16 += utf16_len(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            # End tag.
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            i += 1
            name_start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            end_name = text[name_start:i].lower()
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            i += 1
            opened = stack.pop()
            if end_name and end_name != opened.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{opened.tag}>", found "</{end_name}>"'
                )
            _close_html_entity(builder, opened, pos16, "".join(out))
            continue

        # Start tag.
        name_start = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise unclosed_start(begin)
        tag = text[name_start:i].lower()
        if tag not in HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attributes: dict[str, str] = {}
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise unclosed_start(begin)
            if text[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and not text[i].isspace() and text[i] not in "=>/\"'":
                i += 1
            attr_name = text[attr_start:i].lower()
            if not attr_name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise unclosed_start(begin)
            if text[i] != "=":
                attributes.setdefault(attr_name, "")
                continue
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise unclosed_start(begin)
            if text[i] in "\"'":
                quote = text[i]
                i += 1
                value_chars: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded, j = _decode_html_entity(text, i)
                        if decoded is not None:
                            value_chars.append(decoded)
                            i = j
                            continue
                    value_chars.append(text[i])
                    i += 1
                if i >= n:
                    raise unclosed_start(begin)
                i += 1
                value = "".join(value_chars)
            else:
                token_start = i
                while i < n and (text[i].isascii() and (text[i].isalnum() or text[i] in ".-")):
                    i += 1
                value = text[token_start:i].lower()
                if i >= n:
                    raise unclosed_start(begin)
                if not text[i].isspace() and text[i] != ">":
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {_byte_offset(text, i)}"
                    )
            attributes.setdefault(attr_name, value)

        argument: str | None = None
        extra: str | None = None
        if tag == "a":
            argument = attributes.get("href")
        elif tag == "code":
            cls = attributes.get("class", "")
            if cls.startswith("language-"):
                argument = cls[len("language-") :]
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
        elif tag == "tg-emoji":
            argument = attributes.get("emoji-id")
        elif tag == "tg-time":
            argument = attributes.get("unix")
            extra = attributes.get("format")
        elif tag == "blockquote" and "expandable" in attributes:
            argument = "expandable"
        stack.append(_Open(tag=tag, argument=argument, start=pos16, begin=len(out), extra=extra))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in builder.entities:
        entity.pop("_language", None)
    return "".join(out), builder.entities


def _close_html_entity(builder: _EntityBuilder, opened: _Open, end16: int, plain: str) -> None:
    offset, length = opened.start, end16 - opened.start
    tag = opened.tag
    if tag in _SIMPLE_TAG_TYPES:
        builder.add(_SIMPLE_TAG_TYPES[tag], offset, length)
    elif tag == "span":
        builder.add("spoiler", offset, length)
    elif tag == "a":
        url = opened.argument if opened.argument is not None else plain[opened.begin :]
        if length > 0:
            builder.add_link(offset, length, url)
    elif tag == "tg-emoji":
        if length > 0:
            builder.add_custom_emoji(offset, length, opened.argument)
    elif tag == "tg-time":
        if length > 0:
            builder.add_date_time(offset, length, opened.argument, opened.extra)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument == "expandable" else "blockquote"
        builder.add(kind, offset, length)
    elif tag == "pre":
        last = builder.entities[-1] if builder.entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
        ):
            last["type"] = "pre"
            language = last.pop("_language", None)
            if language:
                last["language"] = language
        else:
            builder.add("pre", offset, length)
    elif tag == "code":
        last = builder.entities[-1] if builder.entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
        ):
            if opened.argument:
                last["language"] = opened.argument
        else:
            # The language is kept only if this code turns out to be the body of a <pre>.
            builder.add("code", offset, length, _language=opened.argument)


# --------------------------------------------------------------------------- shared helpers


def sort_entities(entities: list[JSONDict]) -> list[JSONDict]:
    """Sort entities the way Telegram returns them (by offset, outer entities first).

    Args:
        entities: Entity dicts.

    Returns:
        A new, sorted list.
    """
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 9)),
    )


def trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip leading/trailing whitespace like Telegram, shifting and clipping entities.

    Args:
        text: Plain text.
        entities: Entities over ``text``.

    Returns:
        The trimmed text and the adjusted, non-empty entities.
    """
    stripped_left = text.lstrip()
    left16 = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total16 = utf16_len(result)
    adjusted: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - left16, 0)
        end = min(entity["offset"] + entity["length"] - left16, total16)
        if end <= start:
            continue
        adjusted.append({**entity, "offset": start, "length": end - start})
    return result, adjusted


_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("url", re.compile(r"(?<![\w@/])(?:https?://)[^\s<>\"]+[^\s<>\".,;:!?)\]'»]")),
    ("email", re.compile(r"(?<![\w.])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![\w])")),
]


def detect_entities(text: str, existing: list[JSONDict] | None = None) -> list[JSONDict]:
    """Find the entities Telegram detects on its own (commands, mentions, URLs, ...).

    Detected entities that overlap an existing or earlier-detected entity are skipped.

    Args:
        text: Plain text of a message.
        existing: Entities already present (e.g. from a parse mode).

    Returns:
        The detected entities (not including ``existing``).
    """
    taken: list[tuple[int, int]] = []
    for entity in existing or []:
        if entity["type"] in {"code", "pre", "text_link", "text_mention", "custom_emoji"}:
            taken.append((entity["offset"], entity["offset"] + entity["length"]))
    found: list[JSONDict] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            length = utf16_len(match.group(0))
            if any(start < end and begin < start + length for begin, end in taken):
                continue
            taken.append((start, start + length))
            found.append({"offset": start, "length": length, "type": kind})
    return found
