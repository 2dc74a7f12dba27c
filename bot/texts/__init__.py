"""The catalogue of every participant-facing message, one TOML file per language."""

from __future__ import annotations

import tomllib
from importlib import resources
from string import Formatter
from typing import Any

DEFAULT_LANGUAGE = "en"


class Catalogue:
    """Messages by language and dotted key, falling back to English for missing keys."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self._messages = messages

    @classmethod
    def load(cls) -> Catalogue:
        """Load every language file shipped in this package."""
        found: dict[str, dict[str, str]] = {}
        for entry in resources.files(__package__).iterdir():
            if entry.name.endswith(".toml"):
                data = tomllib.loads(entry.read_text(encoding="utf-8"))
                found[entry.name.removesuffix(".toml")] = dict(_flatten(data))
        return cls(found)

    @property
    def languages(self) -> frozenset[str]:
        """The languages this catalogue has."""
        return frozenset(self._messages)

    def missing(self, language: str) -> list[str]:
        """Keys that English has and ``language`` lacks."""
        have = self._messages.get(language, {})
        return sorted(k for k in self._messages[DEFAULT_LANGUAGE] if k not in have)

    def placeholders(self, key: str) -> set[str]:
        """The placeholders an English message expects."""
        text = self._messages[DEFAULT_LANGUAGE][key]
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    def get(self, language: str, key: str, **params: Any) -> str:
        """The message ``key`` in ``language`` with its placeholders filled in."""
        text = self._messages.get(language, {}).get(key)
        if text is None:
            text = self._messages[DEFAULT_LANGUAGE][key]
        return text.format(**params)

    def plural(self, language: str, key: str, count: float, **params: Any) -> str:
        """``key.one`` when ``count`` is one, else ``key.other``; ``{count}`` is filled in."""
        form = "one" if count == 1 else "other"
        shown = f"{count:g}" if isinstance(count, float) else str(count)
        return self.get(language, f"{key}.{form}", count=shown, **params)


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items += _flatten(value, f"{name}.")
        else:
            items.append((name, str(value)))
    return items
