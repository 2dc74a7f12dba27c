"""Consent scopes as rows: one ``consent_scopes`` row per scope a person agreed to in a group."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Exists, Label, exists

from bot.content.scopes import SCOPES, Scope, unknown
from storage.tables import consent_scopes


def agreed_to(
    scope: Scope,
    participant: ColumnElement[int] | int,
    group: ColumnElement[int] | int | None = None,
) -> Exists:
    """Whether the person agreed to the scope: in the group, or (no group) in any group."""
    found = exists().where(
        consent_scopes.c.scope == scope.value, consent_scopes.c.participant_id == participant
    )
    return found if group is None else found.where(consent_scopes.c.group_id == group)


def scope_flags(participant: ColumnElement[int], group: ColumnElement[int]) -> list[Label[bool]]:
    """One column per scope, named after it, saying whether the consent holds it."""
    return [agreed_to(scope, participant, group).label(scope.value) for scope in SCOPES]


def scopes_of(row: Mapping[Any, object]) -> frozenset[Scope]:
    """The scopes a row selected with ``scope_flags`` holds."""
    return frozenset(scope for scope in SCOPES if row[scope.value])


def scope_rows(
    participant: int, group: int, scopes: frozenset[str], at: datetime
) -> list[dict[str, object]]:
    """The rows of a consent's scopes, refusing scopes the schema does not know."""
    strange = unknown(scopes)
    if strange:
        raise ValueError(f"unknown consent scopes: {strange}")
    return [
        {"participant_id": participant, "group_id": group, "scope": scope.value, "agreed_at": at}
        for scope in SCOPES
        if scope.value in scopes
    ]
