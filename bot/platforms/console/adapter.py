"""The console platform: a whole group session in the terminal, typed or scripted.

Lines in:  ``NAME: text`` (NAME says text in the group; commands start with '/'),
``NAME> text`` (NAME writes to the bot privately), ``NAME edits N: text`` (NAME edits the
message on input line N) and ``NAME deletes N``; ``NAME's locale is bn-BD`` sets the language
NAME's (simulated) device is set to, which the bot speaks to NAME in until NAME chooses one
with /language. A message's id is its input line number
prefixed by the input's id: new for each run, unless one is given (``--input-id``) so that a
bot restarted after a crash can be fed the same input again and store each message once.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
import threading
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.core.actions import (
    Action,
    AskChoice,
    CheckAccess,
    OpenTopic,
    SendCard,
    SendImage,
    SendPrivate,
    SendText,
    recipient,
)
from bot.core.bidi import for_display
from bot.core.events import CommandIssued, Event, MessageDeleted, MessageEdited, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.console.platform import PLATFORM as DESCRIPTOR
from bot.platforms.render import buttons_text, card_text, choice_text
from bot.private_files import private_file
from bot.texts import Catalogue

PLATFORM = DESCRIPTOR.name  # the name the registry knows it by
NAME = r"(?P<name>[^\s:>]+)"
EDIT = re.compile(rf"^{NAME} edits (?P<line>\d+):\s?(?P<text>.*)$")
DELETE = re.compile(rf"^{NAME} deletes (?P<line>\d+)\s*$")
LOCALE = re.compile(rf"^{NAME}'s locale is (?P<locale>[A-Za-z0-9_-]+)\s*$")
SAY = re.compile(rf"^{NAME}(?P<mark>[:>])\s?(?P<text>.*)$")
# Lines decided while earlier ones still wait for their commit: enough to fill the writer's
# batches, few enough that a failure stops the feed soon after the line that failed.
AHEAD = 1000


class ConsoleError(ValueError):
    """An input line the console cannot understand."""


class ConsolePlatform:
    """One group in the terminal: reads lines, prints what each person would see."""

    name = PLATFORM

    def __init__(
        self,
        group: str,
        texts: Catalogue,
        language: str,
        out: TextIO,
        input_id: str | None = None,
        images: Path = Path("console-images"),
    ) -> None:
        """``images``: the folder pictures the bot "sends" are written to (made when needed)."""
        self.group = GroupRef(PLATFORM, group)
        self.texts = texts
        self.language = language
        self.out = out
        self.input_id = input_id or secrets.token_hex(4)
        self.images = images
        self._pictures = 0
        # Each person's simulated device locale, by name ("NAME's locale is bn-BD").
        self.locales: dict[str, str] = {}

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Flush what was printed."""
        self.out.flush()

    async def perform(self, action: Action) -> None:
        """Print an action with who would see it."""
        if isinstance(action, CheckAccess | OpenTopic):
            # The console sees every line typed, and never asks for topics: nothing to do.
            return
        person = recipient(action)
        if person is not None:
            where = f"private to {person.user_id}"
        else:
            assert not isinstance(action, SendPrivate)  # a private message has a recipient
            where = f"group {action.group.chat_id}"
        if isinstance(action, SendPrivate):
            text = action.text
            if action.buttons:
                text = f"{text}\n{buttons_text(action.buttons)}"
        elif isinstance(action, SendCard):
            text = card_text(action.card, self.texts, action.language or self.language)
        elif isinstance(action, AskChoice):
            text = choice_text(action, self.texts, action.language or self.language)
        elif isinstance(action, SendImage):
            text = self.texts.get(
                self.language, "show.console_image", path=self._picture(action), alt=action.alt
            )
        else:
            text = _with_buttons(action)
        prefix = f"[{where}] "
        shown = for_display(text, self.language).splitlines() or [""]
        self.out.write("".join(f"{prefix}{line}\n" for line in shown))

    def _picture(self, image: SendImage) -> Path:
        """Write a picture the bot sends to the images folder; where it went."""
        self._pictures += 1
        path = self.images / f"{self.input_id}-{self._pictures:03d}-{image.name}.png"
        private_file(path).write_bytes(image.png)
        return path

    def parse(self, line: str, number: int, at: datetime) -> Event | None:
        """The event an input line stands for; None for blank lines and '#' comments."""
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            return None
        # A name ends at the first space, ':' or '>': a line that says something (the
        # commonest, tried first) cannot also edit, delete or set a locale.
        match = SAY.match(line)
        if match is None:
            return self._other(line, number, at)
        person = PersonRef(PLATFORM, match["name"])
        group = self.group if match["mark"] == ":" else None
        text = match["text"]
        locale = self.locales.get(match["name"])
        words = text[1:].split() if text.startswith("/") else []
        if words:
            name, *args = words
            message_id = self.message_id(number)
            command = name.split("@")[0]
            return CommandIssued(person, group, command, tuple(args), at, message_id, locale=locale)
        return MessagePosted(person, group, self.message_id(number), text, at, locale=locale)

    def _other(self, line: str, number: int, at: datetime) -> Event | None:
        """The event of a line that edits, deletes or sets a locale."""
        if match := EDIT.match(line):
            person = PersonRef(PLATFORM, match["name"])
            target = self._earlier(match["line"], number)
            return MessageEdited(person, self.group, target, match["text"], at)
        if match := DELETE.match(line):
            person = PersonRef(PLATFORM, match["name"])
            return MessageDeleted(self.group, self._earlier(match["line"], number), at, person)
        if match := LOCALE.match(line):
            self.locales[match["name"]] = match["locale"]
            return None
        raise ConsoleError(
            f"line {number}: write 'NAME: text' to speak in the group, 'NAME> text' to "
            "write to the bot privately, 'NAME edits N: text', 'NAME deletes N' or "
            '"NAME\'s locale is bn-BD"'
        )

    def message_id(self, number: int) -> str:
        """The id of the message typed on input line ``number``."""
        return f"{self.input_id}-{number}"

    def _earlier(self, line: str, number: int) -> str:
        if int(line) >= number:
            raise ConsoleError(
                f"line {number}: there is no line {line} yet; 'edits N' and 'deletes N' "
                "name an earlier input line"
            )
        return self.message_id(int(line))

    async def feed(
        self,
        lines: AsyncIterable[str],
        submit: Callable[[Event], Awaitable[asyncio.Future[None]]],
        clock: Callable[[], datetime],
        echo: bool,
        acknowledge: bool = False,
    ) -> None:
        """Handle each line in order; echo it first when the input is scripted.

        ``submit`` decides a line's event and returns its finish (see ``Service.submit``): the
        next line is decided while the last one's captures wait for their commit, at most
        ``AHEAD`` lines ahead. With ``acknowledge``, ``[ack N]`` is printed once line N's
        event is finished, what it captured committed, and lines before it acknowledged, so a
        program feeding the console knows what is safe.
        """
        waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

        def settle(_: object = None) -> None:
            while waiting and waiting[0][1].done():
                head = waiting[0][1]
                if head.cancelled() or head.exception() is not None:
                    return  # raised by the feed, below; nothing after it is acknowledged
                number = waiting.popleft()[0]
                if acknowledge:
                    self.out.write(f"[ack {number}]\n")
                    self.out.flush()

        number = 0
        async for line in lines:
            number += 1
            try:
                event = self.parse(line, number, clock())
            except ConsoleError as exc:
                self.out.write(f"[console] {exc}\n")
                continue
            if event is None:
                continue
            if echo:
                self.out.write(f"{line.rstrip()}\n")
            finish = await submit(event)
            waiting.append((number, finish))
            finish.add_done_callback(settle)
            while waiting and (len(waiting) >= AHEAD or waiting[0][1].done()):
                await waiting[0][1]  # raises the failure of a line, if it failed
                settle()
        while waiting:
            await waiting[0][1]
            settle()


def _with_buttons(action: SendText) -> str:
    return f"{action.text}\n{buttons_text(action.buttons)}" if action.buttons else action.text


async def stdin_lines() -> AsyncIterator[str]:
    """Lines of standard input until it ends, read without blocking the event loop.

    The reading thread is a daemon, so a stop by signal never waits for the next line.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue(maxsize=64)

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            # Waits while the queue is full: the reader never runs far ahead of the bot.
            asyncio.run_coroutine_threadsafe(lines.put(line), loop).result()
            if not line:
                return

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    while line := await lines.get():
        yield line
