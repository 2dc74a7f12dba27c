"""A controllable clock, a recording platform and a real app for scheduling tests.

Time never passes for real here: ``advance`` moves the fake clock to each job's time in
order and runs that job the way APScheduler would hand it over (a date job leaves the store
once it ran).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import App, build, cycles, scheduler
from bot.core.actions import SendPrivate
from bot.core.events import ButtonPressed, CommandIssued, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.scheduling.scheduler import Scheduler
from bot.service.cycles import Cycles
from bot.settings import Settings
from tests.support.cli import ROOT
from tests.support.recording import Recorder

GROUP = GroupRef("console", "g")
FRAN = PersonRef("console", "fran")
SECONDS = timedelta(seconds=20)  # people take a moment between messages

TIMED_SCRIPT = """\
id = "timed"
version = "1"
title = "A timed script"
language = "en"
estimated_minutes = 20

[[steps]]
id = "talk"
kind = "prompt"
text = "What do you think?"
minutes = 5

[[steps]]
id = "quick"
kind = "prompt"
text = "Quick thoughts, then we move on by ourselves."
minutes = 3
auto_advance = true

[[steps]]
id = "bye"
kind = "close"
text = "Thank you, that is all."
"""

# Cycle 1's script of the carry-forward tests: its last prompt is what cycle 2 recalls.
C1_TALK = """\
id = "c1-talk"
version = "1"
title = "Sharing health data"
language = "en"
estimated_minutes = 30

[[steps]]
id = "ask"
kind = "prompt"
text = "What matters most to you about your health data?"

[[steps]]
id = "trust"
kind = "choice"
text = "Should researchers use it without asking?"
options = ["Yes", "No", "Not sure"]

[[steps]]
id = "bye"
kind = "close"
text = "Thank you."
"""


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def content_root(tmp_path: Path, scripts: dict[str, str] | None = None) -> Path:
    """A copy of the shipped content plus the test scripts."""
    root = tmp_path / "content"
    shutil.copytree(ROOT / "prompts", root / "prompts")
    shutil.copytree(ROOT / "resources", root / "resources")
    for name, text in {"timed": TIMED_SCRIPT, **(scripts or {})}.items():
        (root / "prompts" / f"{name}.toml").write_text(text, encoding="utf-8")
    return root


def settings_for(url: str, root: Path, **schedule: object) -> Settings:
    settings = Settings()
    settings.database.url = url
    settings.content.root = root
    settings.console.group = GROUP.chat_id
    settings.console.facilitators = [FRAN.user_id]
    settings.privacy.key_file = root / "test.key"
    for key, value in schedule.items():
        setattr(settings.schedule, key, value)
    return settings


@dataclass
class Bot:
    """A built app with its recorder, cycles and (started) scheduler, on a fake clock."""

    app: App
    platform: Recorder
    ops: Cycles
    scheduler: Scheduler
    clock: Callable[[], datetime]
    said: int = 0

    async def say(self, person: PersonRef, text: str) -> None:
        at = self.clock()
        if text.startswith("/"):
            name, *args = text[1:].split()
            await self.app.service.handle(CommandIssued(person, GROUP, name, tuple(args), at))
        else:
            self.said += 1
            message_id = f"m{self.said}"
            await self.app.service.handle(MessagePosted(person, GROUP, message_id, text, at))

    async def advance(self, to: datetime) -> None:
        """Move the clock to ``to``, running every persistent job due by then, in time order."""
        while True:
            due = [
                job
                for job in self.scheduler.aps.get_jobs(jobstore="default")
                if job.next_run_time is not None and job.next_run_time <= to
            ]
            if not due:
                break
            job = min(due, key=lambda j: j.next_run_time)
            assert isinstance(self.clock, FakeClock)
            self.clock.now = job.next_run_time
            self.scheduler.aps.remove_job(job.id)
            await self.scheduler.work.run(job.id, job.next_run_time)
        assert isinstance(self.clock, FakeClock)
        self.clock.now = to

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.app.close()


async def start_bot(
    settings: Settings, clock: Callable[[], datetime], *, paused: bool = True
) -> Bot:
    """Build the app as ``dialogue run`` does, with a recorder and the scheduler started."""
    app = await build(settings)
    app.service.clock = clock
    platform = Recorder()
    app.service.attach(platform)
    ops = cycles(app)
    timers = scheduler(app, ops)
    assert await timers.start(paused=paused)
    return Bot(app, platform, ops, timers, clock)


class Resident:
    """A person in a private chat with the bot, typing or pressing one thing at a time."""

    def __init__(self, bot: Bot, person: PersonRef, sent: int = 0) -> None:
        self.bot, self.person, self.sent = bot, person, sent

    async def say(self, text: str) -> None:
        clock = self.bot.clock
        assert isinstance(clock, FakeClock)
        clock.now += SECONDS
        self.sent += 1
        message_id = f"{self.person.user_id}-{self.sent}"
        words = text[1:].split() if text.startswith("/") else []
        if words:  # a bare "/" is a message, as platforms deliver it
            name, *args = words
            event: CommandIssued | MessagePosted = CommandIssued(
                self.person, None, name, tuple(args), clock.now, message_id
            )
        else:
            event = MessagePosted(self.person, None, message_id, text, clock.now)
        await self.bot.app.service.handle(event)

    async def press(self, payload: str) -> None:
        clock = self.bot.clock
        assert isinstance(clock, FakeClock)
        clock.now += SECONDS
        self.sent += 1
        pressed = ButtonPressed(self.person, None, payload, clock.now, press_id=f"p{self.sent}")
        await self.bot.app.service.handle(pressed)

    def heard(self) -> list[str]:
        return self.bot.platform.private(self.person)

    def buttons(self) -> list[str]:
        last = [a for a in self.bot.platform.actions if isinstance(a, SendPrivate)][-1]
        return [b.payload for b in last.buttons]


def t(bot: Bot, key: str, **params: object) -> str:
    return bot.app.texts.get("en", key, **params)
