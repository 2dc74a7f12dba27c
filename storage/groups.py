"""Groups: which may run dialogues, their names, and who may facilitate in each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from bot.core.ids import GroupRef, PersonRef
from storage import _registrations
from storage._base import RepositoryBase
from storage._keys import (
    PERSON_COLUMNS,
    dialect_insert,
    ensure_groups,
    ensure_people,
    group_id,
    open_person,
    person_id,
)
from storage._registrations import RegisteredGroup
from storage.keystore import keys_of
from storage.tables import facilitators, groups, identities


class Groups(RepositoryBase):
    """Registration, titles and facilitators of groups."""

    async def set_group_title(self, group: GroupRef, title: str | None) -> None:
        """Record the group's display name, used in exports."""
        async with self._writer.begin() as conn:
            ids = await ensure_groups(conn, [group])
            await conn.execute(update(groups).where(groups.c.id == ids[group]).values(title=title))

    async def register_group(self, group: GroupRef, at: datetime, title: str | None = None) -> bool:
        """Let the group run sessions (and record its name); False if it was already."""
        async with self._writer.begin() as conn:
            return await _registrations.register(conn, group, at, title)

    async def unregister_group(self, group: GroupRef) -> bool:
        """Stop the group running new sessions; False if it was not registered."""
        async with self._writer.begin() as conn:
            return await _registrations.unregister(conn, group)

    async def is_registered(self, group: GroupRef) -> bool:
        """Whether staff registered the group for dialogues."""
        async with self._engine.connect() as conn:
            return await _registrations.is_registered(conn, group)

    async def registered_groups(self) -> list[RegisteredGroup]:
        """Every registered group, oldest first."""
        async with self._engine.connect() as conn:
            return await _registrations.registered(conn)

    async def facilitators(self, group: GroupRef) -> frozenset[PersonRef]:
        """Return the people allowed to facilitate in the group."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*PERSON_COLUMNS)
                .join(facilitators, facilitators.c.participant_id == identities.c.id)
                .where(facilitators.c.group_id == group_id(group))
            )
            keys = keys_of(conn)
            return frozenset(open_person(keys, *row) for row in rows)

    async def grant_facilitator(self, group: GroupRef, person: PersonRef, at: datetime) -> None:
        """Let the person facilitate in the group; granting twice keeps the first time."""
        async with self._writer.begin() as conn:
            people = await ensure_people(conn, [person])
            group_ids = await ensure_groups(conn, [group])
            await conn.execute(
                dialect_insert(conn, facilitators)
                .values(group_id=group_ids[group], participant_id=people[person], granted_at=at)
                .on_conflict_do_nothing(index_elements=["group_id", "participant_id"])
            )

    async def revoke_facilitator(self, group: GroupRef, person: PersonRef) -> bool:
        """Stop the person facilitating in the group; False if they were not a facilitator."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(facilitators).where(
                    facilitators.c.group_id == group_id(group),
                    facilitators.c.participant_id == person_id(conn, person),
                )
            )
            return result.rowcount > 0
