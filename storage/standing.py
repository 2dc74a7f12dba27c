"""What the bot remembers about people across restarts, beyond their data.

Invitations of people without consent, as keyed hashes only (nothing names them); the group a
person's private messages are about when they name none; and who leads each session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from bot.core.ids import GroupRef, PersonRef, invitation_key
from storage._base import RepositoryBase
from storage._keys import PERSON_COLUMNS, dialect_insert, ensure_people, open_person, person_id
from storage.keystore import keys_of
from storage.tables import consents, groups, identities, invitations, session_leads

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

# Keys per IN list: well under every driver's limit on bound parameters.
_CHUNK = 500


class StandingQueries(RepositoryBase):
    """The repository's queries about invitations, a person's groups and session leads."""

    async def was_invited(self, key: str) -> bool:
        """Whether the invitation with this key (``invitation_key``) was sent."""
        async with self._engine.connect() as conn:
            found = await conn.execute(select(invitations.c.key).where(invitations.c.key == key))
            return found.first() is not None

    async def remember_invitation(self, key: str, at: datetime) -> None:
        """Remember that the invitation with this key was sent (the first time counts)."""
        async with self._writer.begin() as conn:
            insert = dialect_insert(conn, invitations).values(key=key, invited_at=at)
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["key"]))

    async def latest_group(self, person: PersonRef, pseudonym: str) -> GroupRef | None:
        """The chat of the person's latest consent or invitation, or None if there is none."""
        async with self._engine.connect() as conn:
            consented = await conn.execute(
                select(consents.c.given_at, groups.c.platform, groups.c.chat_id)
                .join(groups, groups.c.id == consents.c.group_id)
                .where(consents.c.participant_id == person_id(conn, person))
            )
            found = [(at, GroupRef(platform, chat)) for at, platform, chat in consented]
            keys = await _keys(conn, pseudonym)
            for chunk in _chunks(list(keys)):
                invited = await conn.execute(
                    select(invitations.c.key, invitations.c.invited_at).where(
                        invitations.c.key.in_(chunk)
                    )
                )
                found += [(at, keys[key]) for key, at in invited]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    async def lead(self, session_id: str) -> PersonRef | None:
        """Who last moved the session on, if anyone did."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*PERSON_COLUMNS)
                    .join(session_leads, session_leads.c.participant_id == identities.c.id)
                    .where(session_leads.c.session_id == session_id)
                )
            ).first()
        return None if row is None else open_person(keys_of(self._engine), *row)

    async def set_lead(self, session_id: str, person: PersonRef, at: datetime) -> None:
        """Make the person the session's lead (they moved it on)."""
        async with self._writer.begin() as conn:
            people = await ensure_people(conn, [person])
            insert = dialect_insert(conn, session_leads).values(
                session_id=session_id, participant_id=people[person], led_at=at
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["session_id"],
                    set_={"participant_id": insert.excluded.participant_id, "led_at": at},
                )
            )


async def forget_invitations(conn: AsyncConnection, pseudonym: str) -> int:
    """Forget every invitation of the person with this pseudonym; how many there were."""
    forgotten = 0
    for chunk in _chunks(list(await _keys(conn, pseudonym))):
        removed = await conn.execute(delete(invitations).where(invitations.c.key.in_(chunk)))
        forgotten += removed.rowcount
    return forgotten


async def _keys(conn: AsyncConnection, pseudonym: str) -> dict[str, GroupRef]:
    """The invitation key the person would have in each chat the bot knows, with the chat."""
    known = await conn.execute(select(groups.c.platform, groups.c.chat_id))
    chats = {GroupRef(platform, chat).whole for platform, chat in known}
    return {invitation_key(pseudonym, chat): chat for chat in chats}


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    return (keys[start : start + _CHUNK] for start in range(0, len(keys), _CHUNK))
