"""What a translation must carry over from its source unchanged: placeholders, commands, markup."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from bot.content.problems import Problem

_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\{[a-z_]+\}")
# A command people type, such as /mydata; not the path of a web address (nhs.uk/your-...).
_COMMAND = re.compile(r"(?<![\w/.:])/[a-z][a-z_]*")
_LINK = re.compile(r"\]\((\S+?)\)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s", re.MULTILINE)


def marks(text: str) -> Counter[str]:
    """The placeholders, commands, links, bold marks and list items of a text, counted."""
    found: Counter[str] = Counter()
    found.update(f"'{m}'" for m in _PLACEHOLDER.findall(text))
    found.update(f"'{m}'" for m in _COMMAND.findall(text))
    found.update(f"a link to {url}" for url in _LINK.findall(text))
    found.update({"'**' (bold)": text.count("**"), "a list item": len(_LIST_ITEM.findall(text))})
    return +found


def differ(source: str, words: str, path: Path, line: int | None, field: str) -> list[Problem]:
    """A problem if ``words`` does not carry the marks of ``source``, naming what differs."""
    want, have = marks(source), marks(words)
    if want == have:
        return []
    missing = [f"{n} x {m}" for m, n in sorted((want - have).items())]
    extra = [f"{n} x {m}" for m, n in sorted((have - want).items())]
    said = "; ".join(
        part
        for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"not in the source {', '.join(extra)}" if extra else "",
        )
        if part
    )
    return [
        Problem(
            path,
            line,
            field,
            f"the placeholders, commands, links and Markdown differ from the source ({said}); "
            "keep them as the source has them and translate only the words around them",
        )
    ]
