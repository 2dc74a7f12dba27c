"""``dialogue run``: every enabled platform in one process, started together, stopped cleanly.

The console runs when no chat platform is enabled, or when asked (``--console``, a transcript
or the demo). SIGINT or SIGTERM stops receiving; updates already received are finished, the
scheduler and platforms stop, and the caller then commits what is queued and closes.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from signal import Signals
from typing import TYPE_CHECKING

from bot.app import App, cycles, enabled_platforms, scheduler
from bot.cli.signals import until_signalled
from bot.core.events import Event
from bot.core.ports import Platform
from bot.platforms import registry
from bot.platforms.console.adapter import ConsolePlatform, stdin_lines
from bot.settings import ConfigError
from storage.collector import settle

if TYPE_CHECKING:
    from bot.cli.metrics import Endpoint
    from bot.scheduling.scheduler import Scheduler
    from bot.scheduling.watch import Watch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How ``dialogue run`` was asked to run."""

    console: bool = False  # also run the console when a chat platform is enabled
    transcript: Path | None = None
    input_id: str | None = None
    acknowledge: bool = False
    console_only: bool = False  # the demo: the console alone, whatever is enabled


async def run(app: App, options: RunOptions) -> int:
    """Run until the console's input ends (console alone) or until SIGINT/SIGTERM."""
    platforms = [] if options.console_only else enabled_platforms(app)
    settings = app.settings
    asked = options.console_only or options.console or options.transcript is not None
    console = asked or (settings.console.enabled and not platforms)
    if not console and not platforms:
        switches = registry.one_of([f"{known}.enabled" for known in registry.names()])
        raise ConfigError(
            f"nothing to run: every platform is off; set {switches} to true (or use dialogue "
            "run --console)"
        )
    # The scheduler loads and starts beside the console (whose lines wait for it): not before.
    scheduling = asyncio.create_task(_scheduler(app)) if settings.schedule.enabled else None
    # Without the scheduler, erasures and cycles made elsewhere are still picked up.
    watching = None if scheduling is not None else await _watch(app)
    started: list[Platform] = []
    endpoint: Endpoint | None = None
    try:
        for platform in platforms:
            await platform.start()
            started.append(platform)
        if started:
            names = ", ".join(p.name for p in started)
            print(f"Running on {names}. Press Ctrl-C to stop.", flush=True)
            if not console:
                settle()  # ready: what lives now lives for good
        if settings.health.listen:
            endpoint = _endpoint(app, await scheduling if scheduling is not None else None)
        signalled = await run_console(app, options, scheduling) if console else None
        if started and signalled is None:
            if scheduling is not None:
                await scheduling  # a scheduler that cannot start stops the bot now, not at exit
            await until_signalled(asyncio.Event().wait())
    finally:
        if scheduling is not None:
            await (await scheduling).stop()
        if watching is not None:
            await watching.stop()
        for platform in reversed(started):
            await _stop(platform)
        if endpoint is not None:
            endpoint.stop()
    return 0


async def _scheduler(app: App) -> Scheduler:
    """The app's scheduler, started; its modules are imported on a thread, not the event loop."""
    await asyncio.to_thread(import_module, "bot.scheduling.scheduler")
    timers = scheduler(app, cycles(app))
    await timers.start()
    return timers


async def _watch(app: App) -> Watch:
    """This process's watch, polling on its own (no scheduler runs here)."""
    from bot.scheduling.watch import Watch  # as the scheduler: not loaded before it is used

    watch = Watch(app.service, cycles(app), app.database, app.settings.schedule.poll_seconds)
    await watch.start()
    await watch.poll()  # the open cycle taken up before any event comes
    watch.begin()
    return watch


def _endpoint(app: App, timers: Scheduler | None) -> Endpoint:
    listen = app.settings.health.listen
    # Imported here so that a bot without the endpoint never loads prometheus_client.
    from bot.cli.metrics import Endpoint

    endpoint = Endpoint(app, timers)
    try:
        endpoint.start(listen)
    except OSError as exc:
        raise ConfigError(f"health.listen: cannot serve on {listen}: {exc.strerror}") from None
    return endpoint


async def _stop(platform: Platform) -> None:
    try:
        await platform.stop()
    except Exception as exc:  # one platform failing to stop must not keep the others up
        log.error("platform did not stop cleanly: %s", type(exc).__name__, extra={"kind": "stop"})


async def run_console(
    app: App, options: RunOptions, scheduling: asyncio.Task[Scheduler] | None = None
) -> Signals | None:
    """Run the console until its input ends or a signal comes (returned).

    Its ready line comes as soon as lines can be read; each line waits for ``scheduling``
    (the scheduler starting) before it is handled, so it is handled as in a bot started whole.
    """
    settings = app.settings
    console = ConsolePlatform(
        settings.console.group,
        app.texts,
        settings.content.language,
        sys.stdout,
        options.input_id,
        settings.facilitation.console_images,
    )
    app.service.attach(console)
    await console.start()
    transcript = options.transcript
    if transcript is not None:
        if not transcript.is_file():
            raise ConfigError(f"{transcript}: transcript not found")
        lines: AsyncIterator[str] = _file_lines(transcript)
        echo = True
    else:
        lines, echo = stdin_lines(), not sys.stdin.isatty()
        if not echo:
            print(
                "Console session: type 'facilitator: /start health-data-intro' to begin, "
                "'NAME: text' to speak, 'NAME> text' to write privately; Ctrl-D ends."
            )

    async def submit(event: Event) -> asyncio.Future[None]:
        if scheduling is not None:
            # Shielded: a signal stops the console, not the scheduler's start, which run stops.
            await asyncio.shield(scheduling)
        return await app.service.submit(event)

    settle()  # ready: what lives now lives for good (after the ready line, not before it)
    feeding = console.feed(lines, submit, app.service.clock, echo, options.acknowledge)
    # On SIGINT/SIGTERM the console stops reading; app.close() then commits what is queued.
    signalled = await until_signalled(feeding)
    await console.stop()
    return signalled


async def _file_lines(path: Path) -> AsyncIterator[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        yield line
