"""Rules about groups and replies: registering a group, forgetting a reply, a step's tally."""

from __future__ import annotations

from collections.abc import Sequence

from bot.content.models import Step
from bot.core.actions import CheckAccess, SendText
from bot.core.captures import ResponseDeleted
from bot.core.context import Actor, Context, Transition, private, reply
from bot.core.effects import ForgetRequested, GroupRegistered
from bot.core.state import SessionState
from bot.core.text import gist

COMMANDS = frozenset({"register", "forget"})


def handle(
    state: SessionState | None,
    name: str,
    args: tuple[str, ...],
    actor: Actor,
    ctx: Context,
    reply_to: str | None = None,
) -> Transition:
    """``/register`` (staff, in the group) and ``/forget`` (as a reply, or with a number)."""
    if name == "register":
        return register(state, actor, ctx, " ".join(args) or None)
    return forget(state, args, actor, ctx, reply_to)


def register(
    state: SessionState | None, actor: Actor, ctx: Context, title: str | None = None
) -> Transition:
    """Staff make the group (the whole chat, for a topic) a dialogue group and check access.

    ``title`` is the group's name as the platform shows it (the adapter adds it).
    """
    if not actor.staff:
        return reply(state, actor, ctx.t("groups.staff_only"))
    if actor.group is None:
        return reply(state, actor, ctx.t("session.in_group", command="register"))
    key = "groups.already_registered" if actor.registered else "groups.registered"
    actions = (SendText(actor.group, ctx.group_t(key)), CheckAccess(actor.group, actor.person))
    return Transition(state, actions, effects=(GroupRegistered(actor.group.whole, title),))


def forget(
    state: SessionState | None,
    args: tuple[str, ...],
    actor: Actor,
    ctx: Context,
    reply_to: str | None,
) -> Transition:
    """Remove one stored reply: the one replied to (only the author's), or number N of /mydata."""
    if reply_to is not None and actor.group is not None:
        # Storage deletes the reply only if this person wrote it: others' replies are safe.
        gone = ResponseDeleted(actor.group, reply_to, ctx.now, actor.person)
        return Transition(state, (private(actor, ctx.t("forget.done")),), (gone,))
    # isdigit() is true for '²', which int() refuses: only ASCII decimals are numbers here.
    if len(args) == 1 and args[0].isdecimal() and args[0].isascii() and int(args[0]) >= 1:
        return Transition(state, effects=(ForgetRequested(actor.person, int(args[0])),))
    return reply(state, actor, ctx.t("forget.usage"))


def tally_text(step: Step, answers: Sequence[tuple[int, ...]], ctx: Context) -> str:
    """A choice step's live tally: how many people chose each option."""
    choices = step.choices()
    counts = [sum(number in answer for answer in answers) for number in range(1, len(choices) + 1)]
    people = ctx.n("count.people", len(answers))
    lines = [ctx.t("tally.header", question=gist(step.text), people=people)]
    lines += [
        ctx.t("tally.line", number=number, option=option, count=count)
        for number, (option, count) in enumerate(zip(choices, counts, strict=True), start=1)
    ]
    return "\n".join(lines)
