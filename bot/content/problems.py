"""Problems found in content files, said so that staff can fix them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a content file, said so that staff can fix it."""

    path: Path
    line: int | None
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        label = "warning: " if self.warning else ""
        return (
            f"{where}: {label}{self.field}: {self.message}"
            if self.field
            else f"{where}: {label}{self.message}"
        )


class ContentError(Exception):
    """Content that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
