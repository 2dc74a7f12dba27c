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
from storage._erased import Marks
from storage._handled import claim, ref, release, take_pending
from storage._replies import Known, ReplyRow, reply_row, row_key, store_replies


@dataclass(frozen=True, slots=True)
class Submission:
    """The captures of one handled event, and the message it came in, if it had one."""

    message: MessageRef | None
    captures: Sequence[Capture]


@dataclass(frozen=True, slots=True)
class Batch:
    """Submissions made ready to write, each with its place among them.

    The commonest by far, one reply from the message it came in, is a plain row: cheap to make
    and cheap to hand to a writer in another process. The rest are kept whole.
    """

    replies: tuple[tuple[int, ReplyRow], ...]
    others: tuple[tuple[int, Submission], ...]


def batch_of(submissions: Sequence[Submission]) -> Batch:
    """The submissions, sorted into plain replies and the rest."""
    replies: list[tuple[int, ReplyRow]] = []
    others: list[tuple[int, Submission]] = []
    for place, submission in enumerate(submissions):
        reply = _plain_reply(submission)
        if reply is None:
            others.append((place, submission))
        else:
            replies.append((place, reply_row(reply)))
    return Batch(tuple(replies), tuple(others))


async def apply_submissions(
    conn: AsyncConnection,
    submissions: Sequence[Submission],
    now: datetime,
    marks: Marks,
    known: Known | None = None,
) -> list[bool]:
    """Write the submissions on ``conn``; for each, whether it was applied."""
    return await apply_batch(conn, batch_of(submissions), now, marks, known or Known())


async def apply_batch(
    conn: AsyncConnection, batch: Batch, now: datetime, marks: Marks, known: Known
) -> list[bool]:
    """Write a batch on ``conn``; for each submission in it, whether it was applied.

    A submission whose message was handled, stored or erased before (or came earlier in the
    batch) is skipped whole: a redelivered command must not move a session twice, and a redelivered
    message must not be stored under a later step than the one it was first handled at, nor
    again once erased. Plain replies are written after the rest, together: one group's events
    are handled one at a time and each waits for its commit, so the submissions of one batch
    never depend on each other. Every reply, of either kind, is written by
    ``storage._replies.store_replies``.
    """
    others = [submission for _, submission in batch.others]
    fresh = await claim(conn, [s.message for s in others if s.message is not None], now, marks)
    waiting = {message for message, edited in fresh.items() if edited}
    claimed = set(fresh)
    captures: list[Capture] = []
    outcome = [False] * (len(batch.replies) + len(batch.others))
    for place, submission in batch.others:
        message = submission.message
        # Not fresh: handled before, or earlier in this batch.
        outcome[place] = message is None or fresh.pop(message, None) is not None
        if outcome[place]:
            captures.extend(submission.captures)
    # A reply of a message claimed here marks its message once stored, as any stored reply
    # does; the claim would keep it out (store_replies skips messages handled unstored).
    own = {
        m
        for c in captures
        if isinstance(c, ResponseCaptured)
        if (m := ref(c.group, c.message_id)) in claimed
    }
    await release(conn, own)
    stored = await _capture.apply(conn, captures, marks, known) if captures else {}
    if batch.replies:
        new = await store_replies(conn, [row for _, row in batch.replies], marks, known)
        stored.update(new)
        for place, row in batch.replies:
            outcome[place] = new.pop(row_key(row), None) is not None
    # Rare: only messages an edit waits for need a MessageRef.
    waiting.update(MessageRef(*key) for key, edited in stored.items() if edited)
    for pending in await take_pending(conn, waiting):
        message = pending.message
        if (message.platform, message.chat_id, message.message_id) in stored:
            await apply_pending(conn, pending, GroupRef(message.platform, message.chat_id))
    return outcome


def _plain_reply(submission: Submission) -> ResponseCaptured | None:
    """The reply of the commonest submission by far: one reply, from the message it came in.

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
        return reply
    return None
