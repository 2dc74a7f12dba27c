"""Where a person stands with the groups, as the database says: it survives a restart.

Whom the bot invited (once per chat, remembered as a keyed hash that names nobody), and which
group a private message is about when it names none. Memory only saves asking the database
again; it holds nothing the database does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot.core.ids import GroupRef, PersonRef, invitation_key
from bot.core.ports import Store
from bot.core.state import SessionState

# People kept in memory; past this it starts afresh (the database has it all).
_KEEP = 10_000


class Standing:
    """Invitations and the group of a person's private messages, from the database."""

    def __init__(
        self,
        store: Store,
        pseudonymise: Callable[[PersonRef], str],
        sessions: Mapping[GroupRef, SessionState],
    ) -> None:
        """``sessions``: the service's live sessions by group (a chat's topics among them)."""
        self.store = store
        self.pseudonymise = pseudonymise
        self.sessions = sessions
        self._invited: set[tuple[PersonRef, GroupRef]] = set()
        self._groups: dict[PersonRef, GroupRef | None] = {}

    async def invited(self, person: PersonRef, group: GroupRef) -> bool:
        """Whether the person was invited to take part in the group's chat."""
        whole = group.whole
        if (person, whole) in self._invited:
            return True
        if not await self.store.was_invited(invitation_key(self.pseudonymise(person), whole)):
            return False
        self._remember(person, whole)
        return True

    async def invite(self, person: PersonRef, group: GroupRef, at: datetime) -> None:
        """Remember that the person was invited to the group's chat (before they are told)."""
        whole = group.whole
        await self.store.remember_invitation(invitation_key(self.pseudonymise(person), whole), at)
        self._remember(person, whole)

    def saw(self, person: PersonRef, group: GroupRef | None) -> None:
        """The person acted in (or about) this group (None: the database knows none)."""
        if len(self._groups) >= _KEEP:
            self._groups.clear()
        self._groups[person] = group

    async def group_of(self, person: PersonRef) -> GroupRef | None:
        """The group a private message that names none is about.

        The group the person last acted in since the bot started; before that, the chat of
        their latest consent or invitation, whichever came last (or the topic of that chat a
        session runs in).
        """
        if person not in self._groups:
            chat = await self.store.latest_group(person, self.pseudonymise(person))
            self.saw(person, chat if chat is None else self._running(chat))
        return self._groups.get(person)

    def people(self) -> set[PersonRef]:
        """Everyone remembered here (invited or seen in a group)."""
        return {person for person, _ in self._invited} | set(self._groups)

    def forget(self, person: PersonRef) -> None:
        """Forget what memory holds of a person (they withdrew; the database forgot too)."""
        self._groups.pop(person, None)
        self._invited = {k for k in self._invited if k[0] != person}

    def _running(self, chat: GroupRef) -> GroupRef:
        if chat in self.sessions:
            return chat
        # Sessions run in a chat's topics, but consent and invitations belong to the chat.
        live = (
            group for group, state in self.sessions.items() if group.whole == chat and state.live
        )
        return next(live, chat)

    def _remember(self, person: PersonRef, whole: GroupRef) -> None:
        if len(self._invited) >= _KEEP:
            self._invited.clear()
        self._invited.add((person, whole))
