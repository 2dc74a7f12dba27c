"""A policy that forgets secondary suppression, to show what happens when the audit fails."""

from __future__ import annotations

from dataclasses import replace

import pytest

from exporters.disclosure import Disclosure, Ledger


def hide_only_small_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ledger hide its small counts only: the leak the policy exists to prevent."""
    settle = Ledger.settle

    def naive(ledger: Ledger) -> Disclosure:
        decided = settle(ledger)
        return replace(decided, hidden=decided.small)

    monkeypatch.setattr(Ledger, "settle", naive)
