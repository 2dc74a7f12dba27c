"""A clean stop: SIGINT or SIGTERM ends the bot's main work, and the caller then drains."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def until_signalled(work: Coroutine[Any, Any, object]) -> signal.Signals | None:
    """Run ``work`` until it ends, or until SIGINT/SIGTERM cancels it; the signal, if one came.

    Cancelling stops the platform from taking new events. What was already submitted to the
    capture writer is still committed when the app closes, so a clean stop loses nothing.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    received: list[signal.Signals] = []

    def stop(signum: signal.Signals) -> None:
        if not received:
            received.append(signum)
            log.info("stopping on %s", signum.name)
            task.cancel()

    installed = []
    for signum in STOP_SIGNALS:
        # Not every loop can take signal handlers (e.g. outside the main thread).
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop, signum)
            installed.append(signum)
    try:
        await asyncio.wait({task})
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        if not task.done():  # we were cancelled ourselves
            task.cancel()
    if task.cancelled() and received:
        return received[0]
    task.result()  # the work's own error, if it failed
    return None
