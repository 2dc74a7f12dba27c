"""Many submissions in one transaction, each applied only if its message is new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.captures import Capture, ResponseCaptured
from bot.core.ids import GroupRef, MessageRef
from storage import _capture
from storage._edits import apply_pending
from storage._handled import claim, ref, take_pending
from storage._replies import Known


@dataclass(frozen=True, slots=True)
class Submission:
    """The captures of one handled event, and the message it came in, if it had one."""

    message: MessageRef | None
    captures: Sequence[Capture]


async def apply_submissions(
    conn: AsyncConnection,
    submissions: Sequence[Submission],
    now: datetime,
    known: Known | None = None,
) -> list[bool]:
    """Write the submissions in order on ``conn``; for each, whether it was applied.

    A submission whose message was handled before (or earlier in the batch) is skipped whole:
    a redelivered command must not move a session twice, and a redelivered message must not
    be stored under a later step than the one it was first handled at.
    """
    fresh = await claim(conn, [s.message for s in submissions if s.message is not None], now)
    waiting = {message for message, edited in fresh.items() if edited}
    captures: list[Capture] = []
    applied: list[bool] = []
    for submission in submissions:
        message = submission.message
        if message is not None:
            if fresh.pop(message, None) is None:  # handled before, or earlier in this batch
                applied.append(False)
                continue
        applied.append(True)
        captures.extend(submission.captures)
    if captures:
        await _capture.apply(conn, captures, known)
    if waiting:
        stored: dict[MessageRef, GroupRef] = {
            ref(c.group, c.message_id): c.group for c in captures if isinstance(c, ResponseCaptured)
        }
        for pending in await take_pending(conn, waiting):
            if pending.message in stored:
                await apply_pending(conn, pending, stored[pending.message])
    return applied
