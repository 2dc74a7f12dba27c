"""The cyclic garbage collector's settings for the bot's long-running processes.

Python collects its youngest objects every 700 allocations and, now and then, walks every
object alive. A bot that has started holds its content, catalogues and modules for good, and
handles each reply with a few hundred short-lived objects: at the defaults the collector cost
about a quarter of the event loop's CPU per reply in the capture benchmark (bench/README.md).
Both the bot's process (``dialogue run``, once its ready line is out: the collecting takes
tens of milliseconds) and the writers' helper (whose writers are forked from it) call
:func:`settle` once started. A plain reply's objects form no reference cycle, so they are freed
as soon as it is settled and never wait for the collector (tests/test_group_commit.py).
"""

from __future__ import annotations

import gc

# Allocations between collections of the youngest objects (Python's default: 700).
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Freeze what lives now and collect young objects less often; call once started.

    Frozen objects are never walked by a collection again (nor copied into forked children
    by one); what is freed later is still collected, only in larger, rarer rounds.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
