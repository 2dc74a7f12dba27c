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
from storage._replies import Known, insert_new_replies


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
    """Write the submissions on ``conn``; for each, whether it was applied.

    A submission whose message was handled before (or earlier in the batch) is skipped whole:
    a redelivered command must not move a session twice, and a redelivered message must not
    be stored under a later step than the one it was first handled at. Plain replies are
    written after the rest, together: one group's events are handled one at a time and each
    waits for its commit, so the submissions of one batch never depend on each other.
    """
    known = known or Known()
    replies: list[tuple[Submission, MessageRef]] = []
    others: list[Submission] = []
    for submission in submissions:
        message = _reply_message(submission)
        if message is None:
            others.append(submission)
        else:
            replies.append((submission, message))
    fresh = await claim(conn, [s.message for s in others if s.message is not None], now)
    waiting = {message for message, edited in fresh.items() if edited}
    captures: list[Capture] = []
    outcome: dict[int, bool] = {}
    for submission in others:
        message = submission.message
        # Not fresh: handled before, or earlier in this batch.
        outcome[id(submission)] = message is None or fresh.pop(message, None) is not None
        if outcome[id(submission)]:
            captures.extend(submission.captures)
    if captures:
        await _capture.apply(conn, captures, known)
    stored: dict[MessageRef, GroupRef] = {
        ref(c.group, c.message_id): c.group for c in captures if isinstance(c, ResponseCaptured)
    }
    if replies:
        found = [c for s, _ in replies for c in s.captures if isinstance(c, ResponseCaptured)]
        new = await insert_new_replies(conn, found, known)
        waiting |= {message for message, edited in new.items() if edited}
        for (submission, message), reply in zip(replies, found, strict=True):
            outcome[id(submission)] = new.pop(message, None) is not None
            if outcome[id(submission)]:
                stored[message] = reply.group
    for pending in await take_pending(conn, waiting):
        if pending.message in stored:
            await apply_pending(conn, pending, stored[pending.message])
    return [outcome[id(s)] for s in submissions]


def _reply_message(submission: Submission) -> MessageRef | None:
    """The message of the commonest submission by far: one reply, from the message it came in.

    None for any other submission.
    """
    message = submission.message
    if message is None or len(submission.captures) != 1:
        return None
    reply = submission.captures[0]
    # Field by field: this runs for every reply, and building a key to compare costs more.
    if (
        isinstance(reply, ResponseCaptured)
        and reply.message_id == message.message_id
        and reply.group.chat_id == message.chat_id
        and reply.group.platform == message.platform
    ):
        return message
    return None
