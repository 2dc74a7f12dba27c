"""Every platform, in one list: a new platform is one package and one entry here.

The entries are cheap descriptors (``bot.platforms.descriptor``); each platform's library
loads only when its adapter is built, so a deployment without Discord never loads discord.py.
"""

from __future__ import annotations

from bot.platforms import console, discord, telegram
from bot.platforms.descriptor import Descriptor

PLATFORMS: tuple[Descriptor, ...] = (console.PLATFORM, telegram.PLATFORM, discord.PLATFORM)


def names() -> tuple[str, ...]:
    """The platforms' names, in the list's order."""
    return tuple(kind.name for kind in PLATFORMS)


def find(name: str) -> Descriptor | None:
    """The platform called ``name``, or None."""
    return next((kind for kind in PLATFORMS if kind.name == name), None)


def one_of(words: list[str] | tuple[str, ...]) -> str:
    """``a, b or c``: the words as a sentence offers them."""
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else "".join(words)


def environment_secrets() -> tuple[str, ...]:
    """The platforms' secrets as read from DIALOGUE_<NAME>: ``telegram_token``..."""
    return tuple(f"{kind.name}_{key}" for kind in PLATFORMS for key in kind.secrets)
