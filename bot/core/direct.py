"""The direct groups of cycles and their invitations: where self-paced replies belong.

A resident who takes part on their own, in a private chat, answers in the one session of the
cycle's direct group, so exports and reach reports include them and keep them apart. No chat
exists for a direct group on any platform; an invitation token names only the cycle.
"""

from __future__ import annotations

import re

from bot.core.ids import GroupRef

DIRECT = "direct"  # the platform of direct groups
COMMAND = "join"  # start (or pick up) the open cycle's self-paced dialogue: /join [CYCLE]
NUDGE = "nudge"  # the TimerFired kind of the one reminder
BALLOT = "ballot"  # a pressed answer: "ballot STEP N", with " t" to toggle (the service votes)
TOKEN_MARK = "d"
_CYCLE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def direct_group(cycle_id: str) -> GroupRef:
    """The direct group of a cycle: where everyone's self-paced replies of the cycle belong."""
    return GroupRef(DIRECT, cycle_id)


def is_direct(group: GroupRef | None) -> bool:
    """Whether a group is a cycle's direct group."""
    return group is not None and group.platform == DIRECT


def invitation(cycle_id: str) -> str:
    """The token of a cycle's self-paced invitation (for a deep link): the cycle, nothing else."""
    return f"{TOKEN_MARK}{cycle_id}"


def cycle_of(token: str) -> str | None:
    """The cycle an invitation token names, or None if it is not one."""
    cycle = token[len(TOKEN_MARK) :]
    return cycle if token.startswith(TOKEN_MARK) and _CYCLE.match(cycle) else None


def session_id(cycle_id: str) -> str:
    """The id of a cycle's direct session."""
    return f"{DIRECT}-{cycle_id}"
