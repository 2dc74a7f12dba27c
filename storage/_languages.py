"""People's chosen languages: stored only for someone who consented somewhere, erased with them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import exists, literal, select

from bot.core.captures import LanguageChosen
from storage._keys import dialect_insert, person_id
from storage.tables import consents, person_languages

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


async def save_languages(conn: AsyncConnection, chosen: Sequence[LanguageChosen]) -> None:
    """Store each choice of a person who has a consent; leave out everyone else's.

    The person is looked up, never created: a person without consent leaves no row at all (the
    bot keeps their choice in memory until they consent).
    """
    latest = {c.person: c for c in chosen}
    for c in latest.values():
        pid = person_id(conn, c.person)
        consented = exists().where(consents.c.participant_id == pid)
        found = select(
            pid.label("participant_id"),
            literal(c.language),
            literal(c.at, type_=person_languages.c.chosen_at.type),
        ).where(consented)
        stmt = dialect_insert(conn, person_languages).from_select(
            ["participant_id", "language", "chosen_at"], found
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["participant_id"],
            set_={"language": stmt.excluded.language, "chosen_at": stmt.excluded.chosen_at},
        )
        await conn.execute(stmt)


async def language_of(conn: AsyncConnection, participant: int) -> str | None:
    """The language a stored person chose, or None."""
    found = select(person_languages.c.language).where(
        person_languages.c.participant_id == participant
    )
    return (await conn.execute(found)).scalar()
