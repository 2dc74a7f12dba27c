"""The consent scopes: the one list of what a person may agree to.

Every part reads the scopes from here: the consent text must describe each, storage keeps one
row per agreed scope, exports have a column per scope and buttons name them. Adding a scope is
one new member below (and its wording in the consent texts and catalogues).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    """One thing a person may agree to, in the order they are shown; PARTICIPATE is required."""

    PARTICIPATE = "participate"
    QUOTE = "quote"
    PROFILE = "profile"
    FOLLOWUP = "followup"

    @classmethod
    def named(cls, name: str) -> Scope | None:
        """The scope of that name, or None when there is none (an old or mistyped name)."""
        try:
            return cls(name)
        except ValueError:
            return None


SCOPES: tuple[Scope, ...] = tuple(Scope)
REQUIRED_SCOPE = Scope.PARTICIPATE


def in_order(names: Iterable[str]) -> tuple[Scope, ...]:
    """The known scopes among ``names``, in the canonical order; unknown names are left out."""
    chosen = set(names)
    return tuple(scope for scope in Scope if scope.value in chosen)


def unknown(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are no scope, sorted."""
    return sorted(name for name in set(names) if Scope.named(name) is None)
