"""Many submissions in one transaction, each applied only if its message is new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from bot.core.captures import Capture, ResponseCaptured
from bot.core.ids import GroupRef, MessageRef
from storage import _capture
from storage._edits import apply_pending
from storage._erased import Marks
from storage._handled import claim, ref, release, take_pending
from storage._replies import Known, MessageKey, ReplyRow, reply_row, row_key, store_replies

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


class Submission(NamedTuple):
    """The captures of one handled event, and the message it came in, if it had one."""

    message: MessageRef | None
    captures: Sequence[Capture]


# What the writer queues for every event: a submission as a plain pair (made for every reply,
# where a Submission, even as a named tuple, costs four times as much).
Submitted = tuple[MessageRef | None, Sequence[Capture]]


@dataclass(frozen=True, slots=True)
class Batch:
    """Submissions made ready to write, each with its place among them.

    The commonest by far, one reply from the message it came in, is a plain row: cheap to make
    and cheap to hand to a writer in another process. The rest are kept whole.
    """

    replies: tuple[tuple[int, ReplyRow], ...]
    others: tuple[tuple[int, Submission], ...]


def batch_of(submissions: Sequence[Submitted]) -> Batch:
    """The submissions, sorted into plain replies and the rest."""
    replies: list[tuple[int, ReplyRow]] = []
    others: list[tuple[int, Submission]] = []
    for place, (message, captures) in enumerate(submissions):
        reply = _plain_reply(message, captures)
        if reply is None:
            others.append((place, Submission(message, captures)))
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
    again once erased. Submissions are written in their order, a run of plain replies together:
    a group's next event may be queued before the last one's commit (group commit), so a
    deletion, say, can follow the reply it deletes in the same batch. Every reply, of either
    kind, is written by ``storage._replies.store_replies``.
    """
    outcome = [False] * (len(batch.replies) + len(batch.others))
    waiting: set[MessageRef] = set()
    stored: dict[MessageKey, bool] = {}
    for replies, others in _runs(batch):
        if others:
            waiting |= await _apply_others(conn, others, now, marks, known, outcome, stored)
        if replies:
            new = await store_replies(conn, [row for _, row in replies], marks, known)
            stored.update(new)
            for place, row in replies:
                outcome[place] = new.pop(row_key(row), None) is not None
    # Rare: only messages an edit waits for need a MessageRef.
    waiting.update(MessageRef(*key) for key, edited in stored.items() if edited)
    for pending in await take_pending(conn, waiting):
        message = pending.message
        if (message.platform, message.chat_id, message.message_id) in stored:
            await apply_pending(conn, pending, GroupRef(message.platform, message.chat_id))
    return outcome


async def _apply_others(
    conn: AsyncConnection,
    others: Sequence[tuple[int, Submission]],
    now: datetime,
    marks: Marks,
    known: Known,
    outcome: list[bool],
    stored: dict[MessageKey, bool],
) -> set[MessageRef]:
    """Write a run of submissions other than plain replies; the messages edits wait for."""
    fresh = await claim(conn, [s.message for _, s in others if s.message is not None], now, marks)
    waiting = {message for message, edited in fresh.items() if edited}
    claimed = set(fresh)
    captures: list[Capture] = []
    for place, submission in others:
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
    if captures:
        stored.update(await _capture.apply(conn, captures, marks, known))
    return waiting


def _runs(
    batch: Batch,
) -> list[tuple[list[tuple[int, ReplyRow]], list[tuple[int, Submission]]]]:
    """The batch in its order, as runs: each run's other submissions, then its plain replies.

    Other submissions go first within a run only where no plain reply came before them: a
    run ends where another submission follows a plain reply.
    """
    runs: list[tuple[list[tuple[int, ReplyRow]], list[tuple[int, Submission]]]] = []
    replies, others = list(batch.replies), list(batch.others)
    r = o = 0
    while r < len(replies) or o < len(others):
        # Others up to the next plain reply, then plain replies up to the next other.
        first_reply = replies[r][0] if r < len(replies) else len(replies) + len(others)
        o_end = o
        while o_end < len(others) and others[o_end][0] < first_reply:
            o_end += 1
        next_other = others[o_end][0] if o_end < len(others) else len(replies) + len(others)
        r_end = r
        while r_end < len(replies) and replies[r_end][0] < next_other:
            r_end += 1
        runs.append((replies[r:r_end], others[o:o_end]))
        r, o = r_end, o_end
    return runs


def _plain_reply(
    message: MessageRef | None, captures: Sequence[Capture]
) -> ResponseCaptured | None:
    """The reply of the commonest submission by far: one reply, from the message it came in.

    None for any other submission.
    """
    if message is None or len(captures) != 1:
        return None
    reply = captures[0]
    # Field by field: this runs for every reply, and building a key to compare costs more.
    if (
        isinstance(reply, ResponseCaptured)
        and reply.message_id == message.message_id
        and reply.group.chat_id == message.chat_id
        and reply.group.platform == message.platform
    ):
        return reply
    return None
