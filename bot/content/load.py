"""Load scripts, cards and consent texts from files, collecting every problem at once."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.locate import line_of_toml_field, line_of_yaml_field
from bot.content.problems import Problem

M = TypeVar("M", bound=BaseModel)
# libyaml's safe loader where PyYAML was built with it: the same values, ten times faster
# (cards' headers are read before the bot is ready).
SAFE_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem if it is unreadable or not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(path, None, "", f"cannot read the file ({exc.strerror})"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                path,
                line,
                "",
                f"the file is not UTF-8 text (byte {raw[exc.start]:#04x}); "
                "save it as UTF-8 and try again",
            )
        )
        return None


def parse_toml(path: Path, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The TOML document, or None with a problem that names the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        reason = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        problems.append(Problem(path, line, "", f"this is not valid TOML: {reason}"))
        return None


def validate(
    model: type[M],
    data: dict[str, Any],
    path: Path,
    problems: list[Problem],
    line_of: Callable[[tuple[str | int, ...]], int | None],
    source_only: frozenset[str] = frozenset(),
) -> M | None:
    """The model built from ``data``, or None with one problem per validation error.

    ``source_only`` names fields a translation must leave to its source (e.g. ``minutes``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            message = _sentence(error, source_only)
            problems.append(Problem(path, line_of(loc), _dotted(loc), message))
        return None


def _dotted(loc: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item + 1}]"]
        else:
            parts.append(item)
    return ".".join(parts)


def _sentence(error: Any, source_only: frozenset[str]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "missing" and loc == ("translation",):
        return (
            "a translation needs a [translation] table: source_version (the version of the "
            'source it translates) and review ("draft" until a fluent speaker has reviewed '
            'it, then "reviewed")'
        )
    if kind == "missing":
        return "this field is required; add it"
    if kind == "extra_forbidden" and loc and loc[-1] in source_only:
        return "a translation cannot change this: it comes from the source; remove it"
    if kind == "extra_forbidden":
        return "unknown field; check the spelling or remove it"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and "a-z0-9" in message:
        return "use lower-case letters, digits and dashes only (for example 'my-step-1')"
    return message


def load_toml(
    model: type[M], path: Path, problems: list[Problem], source_only: frozenset[str] = frozenset()
) -> M | None:
    """A script, consent text or translation from a TOML file."""
    text = read_text(path, problems)
    data = parse_toml(path, text, problems) if text is not None else None
    if data is None or text is None:
        return None
    return validate(
        model, data, path, problems, lambda loc: line_of_toml_field(text, loc), source_only
    )


def load_card(
    model: type[M], path: Path, problems: list[Problem], source_only: frozenset[str] = frozenset()
) -> M | None:
    """A resource card (or its translation) from Markdown with a YAML header between '---'."""
    text = read_text(path, problems)
    if text is None:
        return None
    parts = text.split("---\n", 2) if text.startswith("---\n") else []
    if len(parts) != 3:
        problems.append(
            Problem(
                path,
                1,
                "",
                "a card starts with a header between two '---' "
                "lines (id, title, summary, language, sources), then its text",
            )
        )
        return None
    try:
        header = yaml.load(parts[1], Loader=SAFE_YAML)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problems.append(
            Problem(path, line, "", f"the header is not valid YAML: {getattr(exc, 'problem', exc)}")
        )
        return None
    if not isinstance(header, dict):
        problems.append(Problem(path, 2, "", "the header must be 'key: value' lines"))
        return None
    data = {**header, "body": parts[2].strip()}
    return validate(model, data, path, problems, card_lines(parts[1]), source_only)


def card_lines(header: str) -> Callable[[tuple[str | int, ...]], int | None]:
    """Lines of a card's fields, from its YAML ``header`` (the text between the '---')."""
    body_line = header.count("\n") + 3

    def line_of(loc: tuple[str | int, ...]) -> int | None:
        return body_line if loc[:1] == ("body",) else line_of_yaml_field(header, loc, offset=1)

    return line_of
