"""Who may do what where: registered groups, staff, facilitators, and each session's lead.

Roles belong to the whole chat, so a session in one topic is run by the chat's facilitators.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core.captures import SessionSaved
from bot.core.context import Transition
from bot.core.ids import GroupRef, PersonRef
from bot.core.ports import Store


class Roles:
    """Answers role questions from the settings and the store, caching what the store said."""

    def __init__(
        self,
        store: Store,
        staff: frozenset[PersonRef],
        facilitators: Mapping[GroupRef, frozenset[PersonRef]],
        registered: frozenset[GroupRef],
        admins_facilitate: frozenset[str],
    ) -> None:
        """Roles from the settings: ``admins_facilitate`` names platforms whose admins lead."""
        self.store = store
        self.staff = staff
        self.facilitators = facilitators
        self.configured = registered
        self.admins_facilitate = admins_facilitate
        self._registered: dict[GroupRef, bool] = {}
        self._granted: dict[GroupRef, frozenset[PersonRef]] = {}
        # Counts the changes of a registration or a grant (what another answer may be kept by).
        self.changes = 0
        self._leads: dict[str, PersonRef] = {}

    def is_staff(self, person: PersonRef) -> bool:
        """Whether the person is staff (from the settings)."""
        return person in self.staff

    async def is_registered(self, group: GroupRef | None) -> bool:
        """Whether the group's chat may run sessions (registered by staff or in the settings)."""
        if group is None:
            return False
        whole = group.whole
        if whole in self.configured:
            return True
        registered = self._registered.get(whole)
        if registered is None:
            registered = self._registered[whole] = await self.store.is_registered(whole)
        return registered

    async def register(self, group: GroupRef, at: datetime, title: str | None = None) -> bool:
        """Register the group's chat (and keep its name); False if it was registered already."""
        whole = group.whole
        added = await self.store.register_group(whole, at, title)
        self._registered[whole] = True
        self.changes += 1
        return added

    async def is_facilitator(
        self, person: PersonRef, group: GroupRef | None, by_admin: bool = False
    ) -> bool:
        """Staff, people named in the settings or granted by staff, and admins where allowed."""
        if self.is_staff(person):
            return True
        if group is None:
            return False
        whole = group.whole
        if person in self.facilitators.get(whole, frozenset()):
            return True
        if by_admin and whole.platform in self.admins_facilitate:
            return True
        granted = self._granted.get(whole)
        if granted is None:
            granted = self._granted[whole] = await self.store.facilitators(whole)
        return person in granted

    async def grant(self, group: GroupRef, person: PersonRef, at: datetime) -> None:
        """Let the person facilitate the group's chat."""
        self._granted.pop(group.whole, None)
        self.changes += 1
        await self.store.grant_facilitator(group.whole, person, at)

    async def revoke(self, group: GroupRef, person: PersonRef) -> bool:
        """Stop the person facilitating the group's chat; whether they did by a grant."""
        self._granted.pop(group.whole, None)
        self.changes += 1
        return await self.store.revoke_facilitator(group.whole, person)

    async def steered(self, transition: Transition, person: PersonRef, at: datetime) -> None:
        """Remember who moved a stored session on: they see its live tallies, restarts or not."""
        for capture in transition.captures:
            if not isinstance(capture, SessionSaved) or capture.state.session_id is None:
                continue
            session_id = capture.state.session_id
            if self._leads.get(session_id) != person:
                await self.store.set_lead(session_id, person, at)
                self._leads[session_id] = person

    async def lead(self, session_id: str | None) -> PersonRef | None:
        """Who last moved the session on (None: nobody yet)."""
        if session_id is None:
            return None
        if session_id not in self._leads:
            found = await self.store.lead(session_id)
            if found is None:
                return None
            self._leads[session_id] = found
        return self._leads[session_id]

    def forget(self, person: PersonRef) -> None:
        """Forget the sessions a person leads (they withdrew; the database forgot too)."""
        self._leads = {k: v for k, v in self._leads.items() if v != person}
