"""The one loader of the facts an event needs: it reads, and the core judges (``bot.core.facts``).

It finds the group in view, then the person's consent there (kept in memory, as the store
has it), asks the core which further facts the event needs, loads those, and hands them to
the core to make the actor the engine sees.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from bot.core import facts
from bot.core.context import Actor
from bot.core.desk import Desk
from bot.core.events import ButtonPressed, CommandIssued, Event
from bot.core.ids import GroupRef, PersonRef
from bot.core.ports import Store
from bot.core.state import SessionState
from bot.service.languages import Languages
from bot.service.roles import Roles
from bot.service.standing import Standing

log = logging.getLogger(__name__)

# Actors kept for events that need no further fact; past this the memory starts afresh.
_KEEP = 10_000


class Facts:
    """Loads what the engine needs to know about the person behind an event."""

    def __init__(
        self, store: Store, roles: Roles, standing: Standing, languages: Languages
    ) -> None:
        """Facts from the store, roles, where people stand and the languages they chose."""
        self.store = store
        self.roles = roles
        self.standing = standing
        self.languages = languages
        self._scopes: dict[tuple[PersonRef, GroupRef], frozenset[str]] = {}
        # People whose erasure is under way: their consent, still stored, is not read.
        self._erasing: set[PersonRef] = set()
        # How often each person's consent was stored or forgotten: a read of theirs, or an
        # actor made from it, while theirs changed is made again (another's change leaves it).
        self._moved: dict[PersonRef, int] = {}
        # By person, group and whether an admin acted: the actor last made for an event that
        # needed no fact beyond the consent, and the counts of changes it was made before.
        self._actors: dict[tuple[PersonRef, GroupRef, bool], tuple[Actor, tuple[int, int]]] = {}
        # How many times anyone was forgotten, and by person the count their last forgetting
        # made: an event decided before its person was forgotten is decided again (see
        # Service._handle). One count, so an event only compares it when nobody was forgotten.
        self.forgets = 0
        self._forgotten: dict[PersonRef, int] = {}

    async def group(
        self, event: Event, person: PersonRef, direct: GroupRef | None
    ) -> GroupRef | None:
        """The group in view: the event's, its direct group, the one it is about, or the last."""
        seen = event.group or direct or await self._about(event)
        if event.person is None:
            return seen
        if seen is not None:
            self.standing.saw(person, seen)
            return seen
        return await self.standing.group_of(person)

    async def actor(
        self,
        event: Event,
        person: PersonRef,
        group: GroupRef | None,
        state: SessionState | None,
        desk: Desk,
    ) -> Actor:
        """The person as the engine sees them, from the facts ``event`` needs.

        In a group, an event that needs no fact beyond the consent (nearly every reply) is
        given the actor made for the person's last such event there, if nothing it was made
        from has changed since: the same desk, no consent of theirs stored or forgotten, no
        registration, grant, revocation, language chosen or forgotten since. Any of those
        makes a new one, as every event did before. The person's consent stored or forgotten
        while the actor is made makes it again: it may have been made from what was withdrawn.
        """
        by_admin = isinstance(event, CommandIssued) and event.by_admin
        # Every count only grows, so the sum moves whenever one of them does. Read before
        # anything is awaited.
        moved = self._moved.get(person, 0)
        changes = (moved, self.roles.changes + self.languages.changes)
        key = (person, group, by_admin) if group is not None else None
        if key is not None:
            kept = self._actors.get(key)
            if kept is not None:
                actor, made = kept
                # No consent changed: the actor's scopes are the person's consent here.
                if (
                    made == changes
                    and actor.desk is desk
                    and facts.needs(event, person, state, actor.scopes, desk) is facts.NOTHING
                ):
                    return actor
        scopes = await self.scopes(person, group)
        need = facts.needs(event, person, state, scopes, desk)
        invited = need.invited is not None and await self.standing.invited(person, need.invited)
        vote: tuple[int, ...] = ()
        if need.current_vote is not None:
            session_id, step_id = need.current_vote
            vote = await self.store.vote_of(session_id, person, step_id)
        loaded = Actor(
            person=person,
            group=group,
            scopes=scopes,
            facilitator=await self.roles.is_facilitator(person, group, by_admin),
            staff=self.roles.is_staff(person),
            registered=await self.roles.is_registered(group),
            invited=invited,
            current_vote=vote,
            profile=await self.store.profile_answers(person) if need.profile else (),
            desk=desk,
            # Stored until the erasure commits, but not theirs to be spoken to in any more.
            chosen_language=(
                None if person in self._erasing else await self.languages.chosen(person)
            ),
        )
        if self._moved.get(person, 0) != moved:
            return await self.actor(event, person, group, state, desk)
        actor = facts.actor(loaded)
        if key is not None and need is facts.NOTHING:
            if len(self._actors) >= _KEEP:
                self._actors.clear()
            self._actors[key] = (actor, changes)
        return actor

    async def scopes(self, person: PersonRef, group: GroupRef | None) -> frozenset[str]:
        """The person's consent scopes in the group's chat (none outside a group)."""
        if group is None:
            return frozenset()
        # Consent belongs to the whole chat, whichever of its topics a session runs in.
        whole = group.whole
        key = (person, whole)
        scopes = self._scopes.get(key)
        while scopes is None:
            if person in self._erasing:
                return frozenset()
            moved = self._moved.get(person, 0)
            record = await self.store.consent(person, whole)
            scopes = self._scopes.get(key)
            # Kept only if none of the person's consents was stored or forgotten meanwhile,
            # else read again: the record may be one being erased.
            if scopes is None and self._moved.get(person, 0) == moved:
                scopes = self._scopes[key] = record.scopes if record else frozenset()
        return scopes

    def consented(self, person: PersonRef, group: GroupRef, scopes: frozenset[str]) -> None:
        """Keep a consent just stored."""
        self._scopes[(person, group)] = scopes
        self._moved[person] = self._moved.get(person, 0) + 1

    def people(self) -> Iterable[PersonRef]:
        """Everyone whose consent is kept in memory."""
        return {key[0] for key in self._scopes}

    def forget(self, person: PersonRef) -> None:
        """Forget the person's consent everywhere (they withdrew)."""
        for key in [k for k in self._scopes if k[0] == person]:
            del self._scopes[key]
        for kept in [k for k in self._actors if k[0] == person]:
            del self._actors[kept]
        self._moved[person] = self._moved.get(person, 0) + 1
        self.forgets += 1
        self._forgotten[person] = self.forgets

    def forgotten_since(self, person: PersonRef, forgets: int) -> bool:
        """Whether the person was forgotten since ``self.forgets`` was ``forgets``."""
        return self._forgotten.get(person, 0) > forgets

    @contextmanager
    def erasing(self, person: PersonRef) -> Iterator[None]:
        """While the person is erased: no consent of theirs is read, though still stored."""
        self._erasing.add(person)
        try:
            yield
        finally:
            self._erasing.discard(person)

    async def _about(self, event: Event) -> GroupRef | None:
        """The group a private command or button is about, if it may run sessions."""
        about = event.about if isinstance(event, CommandIssued | ButtonPressed) else None
        if about is None or await self.roles.is_registered(about):
            return about
        log.info("private event about an unregistered group", extra={"group": about.chat_id})
        return None
