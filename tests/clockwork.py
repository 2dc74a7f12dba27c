"""A controllable clock, a recording platform and a real app for scheduling tests.

Time never passes for real here: ``advance`` moves the fake clock to each job's time in
order and runs that job the way APScheduler would hand it over (a date job leaves the store
once it ran).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.app import App, build, cycles, scheduler
from bot.core.actions import Action, SendCard, SendPrivate, SendText
from bot.core.events import CommandIssued, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.cycles import Cycles
from bot.scheduling import Scheduler
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
GROUP = GroupRef("console", "g")
FRAN = PersonRef("console", "fran")

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


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Recorder:
    """A platform that records every action instead of sending it."""

    name: str = "console"
    actions: list[Action] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def perform(self, action: Action) -> None:
        self.actions.append(action)

    def group_texts(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, SendText)]

    def private_to(self, person: PersonRef) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, SendPrivate) and a.person == person]

    def cards(self) -> list[SendCard]:
        return [a for a in self.actions if isinstance(a, SendCard)]


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
