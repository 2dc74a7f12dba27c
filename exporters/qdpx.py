"""A REFI-QDA project (``.qdpx``) that NVivo, ATLAS.ti, MAXQDA and QualCoder import.

Each session is a text source; each step is a code, applied to the replies it collected, so
the project opens already coded by question; in the research profile each participant is a
case with their variables and their replies. Sources are written into the zip as they
stream; the selection XML waits in a temporary file, and so do each case's reply ids
(``exporters.case_replies``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from bot.private_files import private_file
from exporters.case_replies import CaseReplies
from exporters.writer import Ending, Replies, SessionPart, Start, Writer

NAMESPACE = "urn:QDA-XML:project:1.0"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_END = "</PlainTextSelection>"
_TYPES = {bool: "Boolean", str: "Text", datetime: "DateTime"}
_ELEMENTS = {"Boolean": "BooleanValue", "Text": "TextValue", "DateTime": "DateTimeValue"}

Value = bool | str | datetime


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _when(value)
    return _text(value)


class Qdpx(Writer):
    """Builds one ``.qdpx`` file; ``finish`` finishes it."""

    def __init__(self, path: Path, name: str, seed: str, created: datetime) -> None:
        self.path = path
        self._name = name
        self._created = _when(created)
        self._ns = uuid.uuid5(uuid.NAMESPACE_URL, f"dialogue-export:{seed}")
        self._user = self.guid("user")
        # Replies get GUIDs built from their ids (a uuid5 each would cost more than the rest
        # of the file): this export's prefix, a kind, and the reply id.
        self._prefix = self.guid("numbered")[:18]
        self._stamp = f' creatingUser="{self._user}" creationDateTime="{self._created}"'
        # The fastest deflate level: text still shrinks about fourfold, at a fraction of the time.
        self._zip = zipfile.ZipFile(private_file(path), "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sources: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._codebook: list[str] = []
        self._codes: dict[tuple[str, str], str] = {}
        self._variables: dict[str, str] = {}
        # Each case's number (from 0, in order), guid and variables; its replies wait on disk.
        self._cases: dict[str, tuple[int, str, dict[str, Value]]] = {}
        self._case_replies = CaseReplies()
        # Each reply number's theme (an index into the guids; -1: none), from ``_lowest`` on:
        # a byte a number, where a sorted copy of the numbers took 16 bytes a themed reply.
        self._theme_at = np.empty(0, np.int8)
        self._lowest = 0
        self._theme_guids: list[str] = []
        self._source: str | None = None
        self._text: list[str] = []
        self._position = 0
        self.counts = {"sources": 0, "cases": 0, "codes": 0, "codings": 0}

    def guid(self, *parts: str) -> str:
        """A GUID stable within this export for the named thing."""
        return str(uuid.uuid5(self._ns, "\x1f".join(parts)))

    def _numbered(self, kind: int, number: int) -> str:
        return f"{self._prefix}-{kind:04x}-{number:012x}"

    def code_script(self, script_id: str, title: str, steps: Sequence[tuple[str, str]]) -> None:
        """A script as a parent code, with one codable child code per (step id, text)."""
        children = []
        for step_id, text in steps:
            guid = self._codes[(script_id, step_id)] = self.guid("code", script_id, step_id)
            children.append(
                f'<Code guid="{guid}" name={_attr(step_id)} isCodable="true">'
                f"<Description>{_text(text)}</Description></Code>"
            )
        self.counts["codes"] += len(children)
        self._codebook.append(
            f'<Code guid="{self.guid("script", script_id)}" name={_attr(script_id)} '
            f'isCodable="false"><Description>{_text(title)}</Description>{"".join(children)}'
            "</Code>"
        )

    def code_themes(self, themes: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Themes as a parent code, one codable child per (name, description, reply numbers).

        The replies are coded as ``finish`` writes the project: themes are found only after
        every reply has streamed by.
        """
        if not themes:
            return
        children = []
        for name, description, _ in themes:
            guid = self.guid("theme", name)
            children.append(
                f'<Code guid="{guid}" name={_attr(name)} isCodable="true">'
                f"<Description>{_text(description)}</Description></Code>"
            )
            self._theme_guids.append(guid)
        self._theme_lookup([replies for _, _, replies in themes])
        self.counts["codes"] += len(children)
        self._codebook.append(
            f'<Code guid="{self.guid("themes")}" name="Themes" isCodable="false">'
            "<Description>Themes found in the open replies (see themes.csv).</Description>"
            f"{''.join(children)}</Code>"
        )

    def _theme_lookup(self, themed: Sequence[np.ndarray]) -> None:
        """Each reply number's theme; a number in two themes keeps the first, as it is coded."""
        numbers = [replies for replies in themed if len(replies)]
        if not numbers:
            return
        self._lowest = min(int(replies.min()) for replies in numbers)
        highest = max(int(replies.max()) for replies in numbers)
        kind = np.int8 if len(themed) <= np.iinfo(np.int8).max else np.int32
        self._theme_at = np.full(highest - self._lowest + 1, -1, kind)
        for theme in reversed(range(len(themed))):
            self._theme_at[themed[theme] - self._lowest] = theme

    def cases(self, cases: Mapping[str, Mapping[str, Value]]) -> None:
        """Participants as cases, with variables (same names and types for every case)."""
        for name, values in cases.items():
            for variable, value in values.items():
                self._variables.setdefault(variable, _TYPES[type(value)])
            self._cases[name] = (len(self._cases), self.guid("case", name), dict(values))

    def session(self, part: SessionPart) -> None:
        """Start a session's text source."""
        self.end_session()
        name = part.name
        guid = self._source = self.guid("source", name)
        self._position = 0
        self.counts["sources"] += 1
        description = f"Session in group {part.group}, cycle {part.cycle}"
        self._sources.write(
            f'<TextSource guid="{guid}" name={_attr(name)} plainTextPath="internal://{guid}.txt" '
            f'creatingUser="{self._user}" creationDateTime="{self._created}">'
            f"<Description>{_text(description)}</Description>"
        )

    def step(self, position: int, step_id: str, text: str, at: datetime) -> None:
        """A step's heading, uncoded."""
        self.write(f"\n[Step {position}: {step_id}]\n")

    def card(self, card_id: str, version: str, title: str, at: datetime) -> None:
        """A card shown, uncoded."""
        self.write(f"[Card shown: {title} ({card_id}, version {version})]\n")

    def write(self, text: str) -> None:
        """Uncoded text of the current source (a step heading, a card shown)."""
        if self._source is None:
            raise RuntimeError("open a source before writing to it")
        self._text.append(text)
        self._position += len(text)

    def replies(self, batch: Replies) -> None:
        """Replies, each coded with its step's code and linked to its speaker's case.

        ``refs`` are reply ids, or a public export's quote numbers. A batch's text and
        selections are written at once.
        """
        if self._source is None:
            raise RuntimeError("open a source before writing to it")
        prefix, user, stamp, codes, cases = (
            self._prefix, self._user, self._stamp, self._codes, self._cases
        )  # fmt: skip
        position, selections, coded = self._position, [], 0
        of_case: list[int] = []
        by_case: list[int] = []
        for response_id, step, speaker, text in zip(
            batch.refs, batch.steps, batch.speakers, batch.texts, strict=True
        ):
            label = f"{speaker or 'A participant'}: "
            start = position + len(label)
            end = start + len(text)
            position = end + 1
            self._text.append(f"{label}{text}\n")
            number = f"{response_id:012x}"
            code = codes.get(step)
            coding = ""
            if code is not None:
                coded += 1
                coding = (
                    f'<Coding guid="{prefix}-0002-{number}" creatingUser="{user}">'
                    f'<CodeRef targetGUID="{code}"/></Coding>'
                )
            selections.append(
                f'<PlainTextSelection guid="{prefix}-0001-{number}" name="reply {response_id}" '
                f'startPosition="{start}" endPosition="{end}"{stamp}>{coding}{_END}'
            )
            case = cases.get(speaker) if speaker is not None else None
            if case is not None:
                of_case.append(case[0])
                by_case.append(response_id)
        self._case_replies.add(of_case, by_case)
        self._position = position
        self.counts["codings"] += coded
        self._sources.write("".join(selections))

    def end_session(self) -> None:
        """Finish the current source, if one is open."""
        if self._source is not None:
            # A session's text is small; written whole, it is compressed in one go.
            self._zip.writestr(f"sources/{self._source}.txt", "".join(self._text))
            self._source, self._text = None, []
            # A source a line: ``finish`` codes themes one source at a time.
            self._sources.write("</TextSource>\n")

    def finish(self, ending: Ending) -> dict[Path, int]:
        """Code the themes, write ``project.qde`` and finish the zip."""
        self.code_themes(ending.themes)
        self.end_session()
        self.counts["cases"] = len(self._cases)
        with self._zip.open("project.qde", "w") as qde, self._sources:
            out = _Utf8(qde)
            out.write('<?xml version="1.0" encoding="utf-8"?>\n')
            out.write(
                f'<Project xmlns="{NAMESPACE}" name={_attr(self._name)} '
                f'origin="distributed-dialogue" creatingUserGUID="{self._user}" '
                f'creationDateTime="{self._created}">'
                f'<Users><User guid="{self._user}" name="dialogue export"/></Users>'
            )
            if self._codebook:
                out.write(f"<CodeBook><Codes>{''.join(self._codebook)}</Codes></CodeBook>")
            self._write_cases(out)
            if self.counts["sources"]:
                out.write("<Sources>")
                self._sources.seek(0)
                if len(self._theme_at):
                    numbered = re.compile(
                        f'<PlainTextSelection guid="{self._prefix}-0001-([0-9a-f]{{12}})"'
                    )
                    for line in self._sources:
                        out.write(self._theme_codings(line.rstrip("\n"), numbered))
                else:
                    shutil.copyfileobj(self._sources, out)
                out.write("</Sources>")
            out.write("</Project>\n")
            out.flush()
        self._zip.close()
        self._case_replies.close()
        return {}

    def _theme_codings(self, source: str, numbered: re.Pattern[str]) -> str:
        """A source's line with each themed reply's selection coded with its theme.

        The replies' numbers are looked up among the themed ones together, a source at a time.
        """
        numbers = np.array([int(n, 16) for n in numbered.findall(source)], np.int64)
        if not len(numbers):
            return source
        at = numbers - self._lowest
        inside = (at >= 0) & (at < len(self._theme_at))
        themes = np.where(inside, self._theme_at[np.where(inside, at, 0)], -1).tolist()
        parts = source.split(_END)
        if len(parts) != len(themes) + 1:
            raise RuntimeError("a source's selections and their numbers do not match")
        self.counts["codings"] += sum(theme >= 0 for theme in themes)
        user, guids, coded = self._user, self._theme_guids, []
        for part, number, theme in zip(parts, numbers.tolist(), themes, strict=False):
            coded.append(part)
            if theme >= 0:
                coded.append(
                    f'<Coding guid="{self._numbered(3, number)}" creatingUser="{user}">'
                    f'<CodeRef targetGUID="{guids[theme]}"/></Coding>'
                )
            coded.append(_END)
        coded.append(parts[-1])
        return "".join(coded)

    def _write_cases(self, out: _Utf8) -> None:
        if not self._cases:
            return
        refs = {name: self.guid("variable", name) for name in self._variables}
        out.write("<Variables>")
        for name, kind in self._variables.items():
            out.write(f'<Variable guid="{refs[name]}" name={_attr(name)} typeOfVariable="{kind}"/>')
        out.write("</Variables><Cases>")
        replied = self._case_replies.by_case(len(self._cases))
        for (name, (_, guid, values)), replies in zip(self._cases.items(), replied, strict=True):
            out.write(f'<Case guid="{guid}" name={_attr(name)}>')
            for variable, value in values.items():
                element = _ELEMENTS[self._variables[variable]]
                out.write(
                    f'<VariableValue><VariableRef targetGUID="{refs[variable]}"/>'
                    f"<{element}>{_value(value)}</{element}></VariableValue>"
                )
            # A case's references in one write (a write a reply cost more than the text).
            numbered = self._numbered
            ids = replies.tolist()
            out.write("".join([f'<SelectionRef targetGUID="{numbered(1, r)}"/>' for r in ids]))
            out.write("</Case>")
        out.write("</Cases>")


def open_writer(start: Start) -> Writer:
    """The REFI-QDA project ``dialogue.qdpx``, its codebook the scripts the export ran."""
    cycle = start.cycle or "all"
    qdpx = Qdpx(start.out / "dialogue.qdpx", f"Cycle {cycle}", str(start.export_id), start.now)
    for script in start.codebook.scripts.values():
        qdpx.code_script(script.id, script.title, start.codebook.step_texts(script.id))
    return qdpx


class _Utf8:
    """A buffered text writer over a binary zip member (zipfile members take bytes).

    Each write to a member compresses; many small ones cost far more than a few large ones.
    """

    def __init__(self, member: IO[bytes], size: int = 1 << 20) -> None:
        self._member = member
        self._parts: list[str] = []
        self._held = 0
        self._size = size

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._held += len(text)
        if self._held >= self._size:
            self.flush()
        return len(text)

    def flush(self) -> None:
        self._member.write("".join(self._parts).encode("utf-8"))
        self._parts, self._held = [], 0
