"""Agree/disagree/pass statements in the layout of Polis's own CSV exports.

``comments.csv``, ``votes.csv``, ``participants-votes.csv`` and ``summary.csv`` use Polis's
column names and its export vote coding (agree 1, disagree -1, pass 0, empty for no vote), so
Polis tools (red-dwarf's loader and pipeline, for example) read the folder unchanged. Polis
numbers participants and comments with integers: voters are numbered from 1 in order of first
vote (``participant-ids.csv`` maps them to pseudonyms) and comment-id 0 is not used; every
statement's author-id is 0, standing for the script, and its timestamp is when the statements
were first put to people (the cycle's first session), or its first vote if earlier. Text cells
are spreadsheet-safe (``exporters.csv_safe``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.content.models import Step
from bot.private_files import private_file, private_folder
from exporters.csv_safe import spreadsheet_safe
from exporters.writer import Casts, Ending, Start, Writer

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


@dataclass(frozen=True, slots=True)
class Statement:
    """An agree/disagree statement as Polis numbers it."""

    comment: int
    step: StepKey
    text: str


class Ballots:
    """Each voter's latest vote on each statement, numbered as Polis numbers them."""

    def __init__(self, statements: Sequence[tuple[StepKey, str]]) -> None:
        self.statements = {
            key: Statement(i, key, text) for i, (key, text) in enumerate(statements, 1)
        }
        self.pids: dict[str, int] = {}
        self.latest: dict[int, dict[int, tuple[int, datetime]]] = {}
        self.first: dict[int, datetime] = {}

    def cast(self, person: str, step: StepKey, vote: int, at: datetime) -> tuple[int, int] | None:
        """Record a vote; its (voter id, comment id), or None if the step is no statement."""
        found = self.statements.get(step)
        if found is None:
            return None
        pid = self.pids.setdefault(person, len(self.pids) + 1)
        self.latest.setdefault(pid, {})[found.comment] = (vote, at)
        self.first[found.comment] = min(at, self.first.get(found.comment, at))
        return pid, found.comment

    def by_comment(self) -> dict[int, Statement]:
        """The statements by comment id."""
        return {s.comment: s for s in self.statements.values()}

    def records(self) -> list[dict[str, object]]:
        """Every latest vote as red-dwarf and Polis's math take them (``modified`` in ms)."""
        return [
            {
                "participant_id": pid,
                "statement_id": comment,
                "vote": vote,
                "modified": int(at.timestamp() * 1000),
            }
            for pid, votes in self.latest.items()
            for comment, (vote, at) in votes.items()
        ]


@dataclass(frozen=True, slots=True)
class Conversation:
    """What ``summary.csv`` says about the conversation as a whole."""

    topic: str
    description: str
    # When the statements were first put to people: every statement's timestamp.
    opened: datetime


class PolisWriter(Writer):
    """Writes the Polis layout into a folder; votes stream, the matrix is one row per voter."""

    def __init__(self, folder: Path, ballots: Ballots, conversation: Conversation):
        private_folder(folder)
        self.folder = folder
        self.ballots = ballots
        self.conversation = conversation
        self._handle = private_file(folder / "votes.csv").open("w", encoding="utf-8", newline="")
        self._votes = csv.writer(self._handle, lineterminator="\n")
        self._votes.writerow(("timestamp", "datetime", "comment-id", "voter-id", "vote"))
        self.counted = {"votes.csv": 0}

    def casts(self, batch: Casts) -> None:
        """Votes as cast (``Ballots.cast`` numbered them), coded as ``vote_coding`` codes them."""
        self._votes.writerows(
            (int(at.timestamp()), js_datetime(at), comment, pid, vote)
            for pid, comment, vote, at in zip(
                batch.voters, batch.comments, batch.votes, batch.at, strict=True
            )
        )
        self.counted["votes.csv"] += len(batch)

    def finish(self, ending: Ending) -> dict[Path, int]:
        """Write the comments, the participant matrix, the summary and the id map.

        ``ending.polis_groups`` maps voter ids to opinion groups, numbered from 0 as Polis does.
        """
        groups = ending.polis_groups
        self._handle.close()
        latest = self.ballots.latest
        tally = {c: [0, 0] for c in self.ballots.by_comment()}
        for votes in latest.values():
            for comment, (vote, _) in votes.items():
                if vote:
                    tally[comment][0 if vote == 1 else 1] += 1
        comments = [
            "timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees",
            "moderated", "comment-body", "is-seed", "is-meta",
        ]  # fmt: skip
        rows: list[Sequence[object]] = []
        opened = self.conversation.opened
        for comment, statement in self.ballots.by_comment().items():
            at = min(opened, self.ballots.first.get(comment, opened))
            agrees, disagrees = tally[comment]
            stamp = (int(at.timestamp()), js_datetime(at), comment, SCRIPT_AUTHOR)
            # Statements are the script's: seeds, all shown (moderated in), none of them meta.
            rows.append((*stamp, agrees, disagrees, 1, statement.text, "true", "false"))
        self._write("comments.csv", comments, rows)
        ids = list(self.ballots.by_comment())
        matrix = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
        rows = []
        for pid, votes in latest.items():
            agree = sum(v == 1 for v, _ in votes.values())
            disagree = sum(v == -1 for v, _ in votes.values())
            cells = [votes[c][0] if c in votes else "" for c in ids]
            rows.append((pid, groups.get(pid, ""), 0, len(votes), agree, disagree, *cells))
        self._write("participants-votes.csv", [*matrix, *map(str, ids)], rows)
        summary = [
            ("topic", self.conversation.topic),
            ("url", ""),
            ("voters", len(latest)),
            ("voters-in-conv", len(groups)),
            ("commenters", 0),
            ("comments", len(ids)),
            ("groups", len(set(groups.values()))),
            ("conversation-description", self.conversation.description),
        ]
        # Polis's summary is a list of name, value lines with no header.
        self._write("summary.csv", None, summary)
        self._write(
            "participant-ids.csv",
            ["voter-id", "participant"],
            [(pid, person) for person, pid in self.ballots.pids.items()],
        )
        return {self.folder / name: n for name, n in self.counted.items()}

    def _write(
        self, name: str, header: Sequence[str] | None, rows: Sequence[Sequence[object]]
    ) -> None:
        with private_file(self.folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            if header is not None:
                writer.writerow(header)
            # Statements are staff's text, but a spreadsheet must not run one as a formula.
            writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        self.counted[name] = len(rows)


def open_writer(start: Start) -> Writer | None:
    """The Polis folder, in the research profile only (its voters are participants)."""
    return (
        None
        if start.public
        else PolisWriter(start.out / "polis", start.ballots, start.conversation)
    )
