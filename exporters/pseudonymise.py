"""Keyed pseudonyms: stable within a deployment, not reversible without the key."""

from __future__ import annotations

import hashlib
import hmac

from bot.core.ids import PersonRef


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
