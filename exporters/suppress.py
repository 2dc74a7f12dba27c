"""Small-cell suppression for published counts, with secondary suppression.

Primary: a count from 1 to threshold - 1 is hidden (0 is shown: it reveals no one).
Secondary: a total and the cells it sums form an equation; an equation with exactly one
hidden cell would give that cell away, so the smallest other visible cell is hidden too,
repeating until every equation hides none or at least two of its cells.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_THRESHOLD = 10


def suppress(
    counts: Mapping[K, int], equations: Sequence[tuple[K, Sequence[K]]], threshold: int
) -> set[K]:
    """The keys whose counts must not be published.

    Args:
        counts: every published count by key, totals included.
        equations: pairs of (total key, keys of the cells that sum to it).
        threshold: the smallest count that may be shown (below it, except 0, is hidden).
    """
    hidden = {k for k, v in counts.items() if 0 < v < threshold}
    changed = True
    while changed:
        changed = False
        for total, members in equations:
            cells = [total, *members]
            if sum(k in hidden for k in cells) != 1:
                continue
            visible = [k for k in cells if k not in hidden]
            if not visible:
                continue
            # Prefer a non-zero cell: hiding a zero protects little, since zeros are public.
            pick = min(visible, key=lambda k: (counts[k] == 0, k == total, counts[k]))
            hidden.add(pick)
            changed = True
    return hidden
