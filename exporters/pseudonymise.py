"""Keyed pseudonyms: stable within a deployment, not reversible without the key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.core.ids import GroupRef, PersonRef

if TYPE_CHECKING:
    import pyarrow as pa


class Pseudonymiser:
    """Turns a platform identity into ``p-`` and 16 hex digits of an HMAC-SHA256."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key

    def __call__(self, person: PersonRef) -> str:
        """The pseudonym of ``person``."""
        message = f"{person.platform}\x1f{person.user_id}".encode()
        return "p-" + hmac.new(self._key, message, hashlib.sha256).hexdigest()[:16]

    def code(self, prefix: str, *parts: str) -> str:
        """A keyed code for something that is not a person (a group, a session)."""
        message = "\x1f".join((prefix, *parts)).encode()
        return f"{prefix}-" + hmac.new(self._key, message, hashlib.sha256).hexdigest()[:12]


class Naming:
    """How people, groups and sessions are named in one export profile.

    The research profile names groups ``platform:chat id`` and people by pseudonym; the public
    profile names groups and sessions by keyed codes (a chat id can be looked up on its
    platform) and names no person at all.
    """

    def __init__(self, pseudonymise: Pseudonymiser, public: bool) -> None:
        self.public = public
        self._pseudonymise = pseudonymise
        self._people: dict[PersonRef, str] = {}
        self._codes: dict[tuple[str, ...], str] = {}

    def pseudonym(self, person: PersonRef) -> str:
        """The person's pseudonym (cached: the same people recur on every row)."""
        found = self._people.get(person)
        if found is None:
            found = self._people[person] = self._pseudonymise(person)
        return found

    def person(self, person: PersonRef) -> str | None:
        """The person as the export names them: a pseudonym, or None in public."""
        return None if self.public else self.pseudonym(person)

    def pseudonyms(self, people: pa.Array, found: Mapping[int, PersonRef]) -> pa.DictionaryArray:
        """A column of people by number (``found`` names each) as their pseudonyms.

        Each distinct person is named once (and remembered for the whole export); the column
        is a dictionary of those names and an index per row, so no row builds a string. The
        numbers and ``found`` are a ``storage._export.ReplyBatch``'s ``participant`` and
        ``people``. In public the names are still made (counts of people need them).
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        distinct = pc.unique(people)
        names = pa.array([self.pseudonym(found[p]) for p in distinct.to_pylist()], pa.string())
        return pa.DictionaryArray.from_arrays(pc.index_in(people, value_set=distinct), names)

    def persons(self, people: pa.Array, found: Mapping[int, PersonRef]) -> pa.Array:
        """The column of ``pseudonyms``, or of nulls in public (no person is named there)."""
        import pyarrow as pa

        if self.public:
            return pa.nulls(len(people), pa.dictionary(pa.int32(), pa.string()))
        return self.pseudonyms(people, found)

    def group(self, group: GroupRef) -> str:
        """The group as the export names it."""
        if not self.public:
            return f"{group.platform}:{group.chat_id}"
        return self._code("g", group.platform, group.chat_id)

    def session(self, session_id: str) -> str:
        """The session as the export names it."""
        return self._code("s", session_id) if self.public else session_id

    def _code(self, prefix: str, *parts: str) -> str:
        key = (prefix, *parts)
        found = self._codes.get(key)
        if found is None:
            found = self._codes[key] = self._pseudonymise.code(prefix, *parts)
        return found
