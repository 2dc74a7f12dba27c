"""One readable Markdown transcript per session: prompts, cards shown, replies in order."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.private_files import private_file, private_folder
from exporters.writer import Ending, Replies, SessionPart, Start, Writer

_SPECIAL = re.compile(r"([\\`*_<>#|])")


def _plain(text: str) -> str:
    # Participants' words are shown as written, never as Markdown or HTML.
    return _SPECIAL.sub(r"\\\1", text).replace("\n", "  \n    ")


def _plain_all(texts: list[str]) -> list[str]:
    """``_plain`` of each text, in one pass over them joined when no text holds the joint."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [_plain(text) for text in texts]
    return _plain(joined).split("\x00") if texts else []


class Transcripts(Writer):
    """Writes ``transcripts/SESSION.md``, one session at a time.

    ``by_day``: times are cut to the day (the public profile), so no reply can be matched to
    a message in the chat by its minute.
    """

    def __init__(self, folder: Path, by_day: bool = False) -> None:
        self.folder = folder
        self.by_day = by_day
        private_folder(folder)
        self._out: TextIO | None = None

    def session(self, part: SessionPart) -> None:
        """Start a session's transcript with what is known about the session."""
        self.end_session()
        path = self.folder / f"{re.sub(r'[^A-Za-z0-9._-]', '_', part.name)}.md"
        self._out = private_file(path).open("w", encoding="utf-8", newline="\n")
        self._out.write(f"# Session {part.name}\n\n")
        content = f" (content {part.content_version})" if part.content_version else ""
        facts = {
            "Group": part.group,
            "Cycle": part.cycle or "",
            "Script": f"{part.script_id} version {part.script_version}{content}",
            "Started": self.clock(part.started_at) if part.started_at else "",
            "Ended": self.clock(part.ended_at) if part.ended_at else "",
        }
        for name, value in facts.items():
            self._out.write(f"- {name}: {value or '-'}\n")
        self._out.write(
            "\nPeople appear as pseudonyms (or unnamed, in a public export); personal details "
            "are replaced by [kind].\n"
        )

    def step(self, position: int, step_id: str, text: str, at: datetime) -> None:
        """A step put in front of the group."""
        quoted = "\n".join(f"> {line}" for line in text.strip().splitlines())
        self._file.write(f"\n## Step {position}: {step_id} ({self.clock(at)})\n\n{quoted}\n\n")

    def card(self, card_id: str, version: str, title: str, at: datetime) -> None:
        """A resource card shown to the group."""
        self._file.write(
            f"*Card shown: {title} ({card_id}, version {version}), {self.clock(at)}*\n\n"
        )

    def replies(self, batch: Replies) -> None:
        """Replies, each attributed to a pseudonym (or to no one in a public export)."""
        by_day, lines = self.by_day, []
        for speaker, text, at, edited in zip(
            batch.speakers, _plain_all(batch.texts), batch.posted, batch.edited, strict=True
        ):
            who = f"**{speaker}**" if speaker else "**A participant**"
            note = " (edited)" if edited else ""
            when = "" if by_day else f" at {at.hour:02d}:{at.minute:02d}"
            lines.append(f"- {who}{when}{note}: {text}\n")
        self._file.write("".join(lines))

    def clock(self, at: datetime) -> str:
        """A time as the transcript shows it: to the minute, or the day only."""
        return f"{at:%Y-%m-%d}" if self.by_day else f"{at:%Y-%m-%d %H:%M} UTC"

    @property
    def _file(self) -> TextIO:
        if self._out is None:
            raise RuntimeError("open a session's transcript before writing to it")
        return self._out

    def end_session(self) -> None:
        """Finish the current transcript, if one is open."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def finish(self, ending: Ending) -> dict[Path, int]:
        """Finish the last transcript; transcripts have no rows to count."""
        self.end_session()
        return {}


def open_writer(start: Start) -> Writer:
    """The transcripts: one Markdown file per session, times to the day in public."""
    return Transcripts(start.out / "transcripts", by_day=start.public)
