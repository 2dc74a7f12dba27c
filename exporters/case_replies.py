"""Each REFI-QDA case's replies, waiting on disk until the project lists them (``exporters.qdpx``).

A case lists the selections of its person's replies in the order the walk wrote them, but the
project is written only once every reply went by. The (case, reply id) pairs wait in a
temporary file (deleted when closed); memory holds a count a case and a batch of pairs, nothing
a reply. They are read back a range of cases at a time, each range's pairs at most ``LIMIT``
(a person with more has a range of their own), in one pass over the file a range.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterator, Sequence

import numpy as np

_PAIR = np.dtype([("case", "<i4"), ("reply", "<i8")])


class CaseReplies:
    """Reply ids by case (numbered from 0), in the order added."""

    BATCH = 1 << 16
    LIMIT = 1 << 18

    def __init__(self, limit: int = LIMIT) -> None:
        self._file = tempfile.TemporaryFile()
        self._limit = limit
        self._counts = np.zeros(0, np.int64)
        self._cases = array("i")
        self._replies = array("q")

    def add(self, cases: Sequence[int], replies: Sequence[int]) -> None:
        """Replies (``replies[n]`` a reply id of case ``cases[n]``), in order."""
        self._cases.extend(cases)
        self._replies.extend(replies)
        if len(self._cases) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._cases:
            return
        pairs = np.empty(len(self._cases), _PAIR)
        pairs["case"] = np.frombuffer(self._cases, np.int32)
        pairs["reply"] = np.frombuffer(self._replies, np.int64)
        counted = np.bincount(pairs["case"])
        if len(counted) > len(self._counts):
            self._counts = np.pad(self._counts, (0, len(counted) - len(self._counts)))
        self._counts[: len(counted)] += counted
        self._file.write(pairs.tobytes())
        self._cases, self._replies = array("i"), array("q")

    def by_case(self, cases: int) -> Iterator[np.ndarray]:
        """The reply ids of each of ``cases`` cases in turn, each case's in the order added."""
        self._flush()
        counts = np.zeros(cases, np.int64)
        known = min(cases, len(self._counts))
        counts[:known] = self._counts[:known]
        ends = np.cumsum(counts)
        low = 0
        while low < cases:
            before = int(ends[low - 1]) if low else 0
            high = max(low + 1, int(np.searchsorted(ends, before + self._limit, "right")))
            replies = self._range(low, high, counts[low:high]) if ends[high - 1] > before else None
            at = 0
            for count in counts[low:high].tolist():
                yield replies[at : at + count] if replies is not None else np.zeros(0, np.int64)
                at += count
            low = high

    def _range(self, low: int, high: int, counts: np.ndarray) -> np.ndarray:
        """The reply ids of cases ``low`` to ``high`` (not included), case by case, in order."""
        found = np.empty(int(counts.sum()), np.int64)
        # Where each case's next reply goes in ``found``.
        cursor = np.concatenate(([0], np.cumsum(counts)[:-1]))
        self._file.seek(0)
        while chunk := self._file.read(self.BATCH * _PAIR.itemsize):
            pairs = np.frombuffer(chunk, _PAIR)
            pairs = pairs[(pairs["case"] >= low) & (pairs["case"] < high)]
            if not len(pairs):
                continue
            # A stable sort keeps each case's replies in the order added.
            pairs = pairs[np.argsort(pairs["case"], kind="stable")]
            case, first, many = np.unique(
                pairs["case"] - low, return_index=True, return_counts=True
            )
            rank = np.arange(len(pairs)) - np.repeat(first, many)
            found[np.repeat(cursor[case], many) + rank] = pairs["reply"]
            cursor[case] += many
        self._file.seek(0, 2)
        return found

    def close(self) -> None:
        """Delete the temporary file."""
        self._file.close()
