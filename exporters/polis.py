"""Agree/disagree/pass statements in the layout of Polis's own CSV exports.

``comments.csv``, ``votes.csv`` and ``participants-votes.csv`` use Polis's column names and
its export vote coding (agree 1, disagree -1, pass 0, empty for no vote), so analyses written
for Polis exports (its opinion-group clustering, for example) run unchanged. Polis numbers
participants and comments with integers: voters are numbered from 1 in order of first vote
(``participant-ids.csv`` maps them to pseudonyms) and comment-id 0 is not used; every
statement's author-id is 0, standing for the script. Text cells are spreadsheet-safe
(``exporters.csv_safe``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.content.models import Step
from bot.private_files import private_file, private_folder
from exporters.csv_safe import spreadsheet_safe

_CODES = {"agree": 1, "disagree": -1, "pass": 0, "unsure": 0, "not sure": 0, "skip": 0}
SCRIPT_AUTHOR = 0
StepKey = tuple[str, str]


def vote_coding(step: Step) -> dict[int, int] | None:
    """Option number to Polis vote, if the step is an agree/disagree(/pass) statement."""
    if step.kind != "choice" or step.multiple or step.scale is not None:
        return None
    labels = [o.strip().lower().rstrip(".!") for o in step.options]
    if any(label not in _CODES for label in labels):
        return None
    coding = {n: _CODES[label] for n, label in enumerate(labels, 1)}
    return coding if {1, -1} <= set(coding.values()) else None


def js_datetime(at: datetime) -> str:
    """A time as Polis writes it (JavaScript's Date.toString in UTC)."""
    return at.astimezone(UTC).strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


class PolisWriter:
    """Writes the Polis layout into a folder; votes stream, the matrix is one row per voter."""

    def __init__(self, folder: Path, statements: Sequence[tuple[StepKey, str]]):
        private_folder(folder)
        self.folder = folder
        self._statements = {key: (i, text) for i, (key, text) in enumerate(statements, 1)}
        self._pids: dict[str, int] = {}
        self._latest: dict[int, dict[int, int]] = {}
        self._tally: dict[int, list[int]] = {i: [0, 0] for i, _ in self._statements.values()}
        self._first: dict[int, datetime] = {}
        self._handle = private_file(folder / "votes.csv").open("w", encoding="utf-8", newline="")
        self._votes = csv.writer(self._handle, lineterminator="\n")
        self._votes.writerow(("timestamp", "datetime", "comment-id", "voter-id", "vote"))
        self.rows = {"votes.csv": 0}

    def vote(self, person: str, step: StepKey, vote: int, at: datetime) -> None:
        """One person's answer to a statement, coded as Polis codes it (see ``vote_coding``)."""
        found = self._statements.get(step)
        if found is None:
            return
        comment, _ = found
        pid = self._pids.setdefault(person, len(self._pids) + 1)
        self._votes.writerow((int(at.timestamp()), js_datetime(at), comment, pid, vote))
        self.rows["votes.csv"] += 1
        self._latest.setdefault(pid, {})[comment] = vote
        self._first[comment] = min(at, self._first.get(comment, at))

    def close(self) -> dict[Path, int]:
        """Write the comment summary, the participant matrix and the id map."""
        self._handle.close()
        for votes in self._latest.values():
            for comment, vote in votes.items():
                if vote:
                    self._tally[comment][0 if vote == 1 else 1] += 1
        comments = [
            "timestamp", "datetime", "comment-id", "author-id",
            "agrees", "disagrees", "moderated", "comment-body",
        ]  # fmt: skip
        rows: list[Sequence[object]] = []
        for comment, text in self._statements.values():
            first = self._first.get(comment)
            agrees, disagrees = self._tally[comment]
            stamp = (int(first.timestamp()), js_datetime(first)) if first else ("", "")
            rows.append((*stamp, comment, SCRIPT_AUTHOR, agrees, disagrees, 1, text))
        self._write("comments.csv", comments, rows)
        ids = [c for c, _ in self._statements.values()]
        matrix = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
        rows = []
        for pid, votes in self._latest.items():
            agree = sum(v == 1 for v in votes.values())
            disagree = sum(v == -1 for v in votes.values())
            cells = [votes.get(c, "") for c in ids]
            rows.append((pid, "", 0, len(votes), agree, disagree, *cells))
        self._write("participants-votes.csv", [*matrix, *map(str, ids)], rows)
        self._write(
            "participant-ids.csv",
            ["voter-id", "participant"],
            [(pid, person) for person, pid in self._pids.items()],
        )
        return {self.folder / name: n for name, n in self.rows.items()}

    def _write(self, name: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        with private_file(self.folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            # Statements are staff's text, but a spreadsheet must not run one as a formula.
            writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        self.rows[name] = len(rows)
