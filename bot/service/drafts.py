"""Where "what we heard" drafts are written, how their quotes are redacted, and withdrawal.

A draft is a publication: its quotes are redacted as a public export's are (the export's
``redact`` setting), and when a person withdraws, each statement that quoted them is taken out
of every draft already on disk. Which reply a statement quotes is kept in the database by id
(``heard_quotes``), so the draft itself holds nothing that links a quote to a person.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.ids import PersonRef
from bot.core.records import Erasure
from storage.heard import quoted

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from exporters.redact import Redactor

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeardDrafts:
    """The drafts' folder, the redaction their quotes get, and what replaces a withdrawn one."""

    engine: AsyncEngine
    folder: Path
    redact: tuple[str, ...]
    # Looked up when a quote is taken out: the bot starts without reading its messages.
    withdrawn: Callable[[], str]

    def redactor(self) -> Redactor:
        """A fresh redactor of the configured kinds."""
        # Imported when used: the bot starts without loading the card's publishing code.
        from exporters.redact import Redactor

        return Redactor(self.redact)

    async def erasing(self, person: PersonRef, erase: Callable[[], Awaitable[Erasure]]) -> Erasure:
        """Erase the person (``erase``), then take their quotes out of every draft on disk."""
        # Read first: the erasure deletes the replies, and with them which statements they are.
        quotes = await quoted(self.engine, person)
        erasure = await erase()
        if quotes:
            from exporters.heard_card import withdraw

            changed = withdraw(self.folder, quotes, self.redactor(), self.withdrawn())
            log.info("withdrawn quotes taken out of drafts", extra={"responses": len(changed)})
        return erasure
