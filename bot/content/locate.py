"""Find the line of a field in a TOML or YAML text, so errors can point at it."""

from __future__ import annotations

import re


def line_of_toml_field(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line where the field at ``loc`` is (or its table starts), if found."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    best: int | None = None
    items = list(loc)
    while items:
        key = items.pop(0)
        if not isinstance(key, str):
            continue
        index = items.pop(0) if items and isinstance(items[0], int) else None
        if not isinstance(index, int | None):
            continue
        headers = [
            i
            for i in range(start, end)
            if re.match(rf"^\s*\[\[?\s*(?:[\w.-]+\.)?{re.escape(key)}\s*\]\]?\s*$", lines[i])
        ]
        if headers:
            pick = headers[index] if index is not None and index < len(headers) else headers[0]
            following = [i for i in range(pick + 1, end) if re.match(r"^\s*\[", lines[i])]
            start, end = pick + 1, following[0] if following else end
            best = pick + 1
            continue
        assigned = next(
            (i for i in range(start, end) if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i])), None
        )
        if assigned is None:
            return best
        return assigned + 1
    return best


def line_of_yaml_field(header: str, loc: tuple[str | int, ...], offset: int = 0) -> int | None:
    """The 1-based line of a top-level key in a YAML header, plus ``offset`` lines."""
    key = next((k for k in loc if isinstance(k, str)), None)
    for number, line in enumerate(header.splitlines(), start=1):
        if key is not None and re.match(rf"^{re.escape(key)}\s*:", line):
            return number + offset
    return 1 + offset if header else None
