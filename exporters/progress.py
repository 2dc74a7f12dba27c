"""A progress bar on standard error, shown only when it is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """Counts rows done out of a known total and redraws at most a few times a second."""

    def __init__(self, total: int, label: str = "Exporting", stream: TextIO | None = None):
        self.total = max(total, 0)
        self.done = 0
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._shown = self._stream.isatty()
        self._last = 0.0

    def advance(self, rows: int = 1) -> None:
        """Count rows done."""
        self.done += rows
        if self._shown and time.monotonic() - self._last >= 0.2:
            self._draw()

    def _draw(self) -> None:
        self._last = time.monotonic()
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self._stream.write(
            f"\r{self._label} [{bar}] {share:4.0%} {self.done:,}/{self.total:,} rows"
        )
        self._stream.flush()

    def finish(self) -> None:
        """Draw the bar full and end its line."""
        if self._shown:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()
