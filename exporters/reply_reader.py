"""The export's pages of replies, read in a process of their own while the walk writes them.

Reading a page (the database's query, each text opened with AES-GCM, the page made into Arrow
columns: ``Datasets.reply_batches``) took a third of the walk's time in the export's one busy
thread, and most of it holds the GIL, so a thread would not run it beside the walk. A process
does: forked from multiprocessing's fork server as the analyses' is (``exporters.analyses``),
it opens the database and its key store anew (``Datasets.source``), reads the pages in order
and sends each through a pipe, where the next page waits while the walk writes this one. A
database in memory is read in the export's own process, as before.

The pages come in the order ``Datasets.reply_batches`` gives them. An error in the reader is
raised where its page was due (as its own type when it crosses the pipe); a reader whose walk
stopped early is ended, so nothing of it outlives the export.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from exporters.analyses import context
from storage._export import ReplyBatch
from storage.dataset_records import SessionRow
from storage.datasets import Datasets, Source
from storage.db import make_engine


class ReaderError(RuntimeError):
    """The replies' reader ended without saying why (its process died)."""


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class ReplyReader:
    """The pages of replies of ``sessions``, read a page ahead in a process when ``start``-ed."""

    def __init__(self, datasets: Datasets, sessions: Sequence[SessionRow]) -> None:
        """Read ``sessions``' replies (in this order) from ``datasets``' database."""
        self._datasets = datasets
        self._sessions = list(sessions)
        self._running: tuple[Connection, BaseProcess] | None = None
        self._read = False

    def start(self) -> None:
        """Start the reader's process (early: it loads its libraries meanwhile)."""
        source = self._datasets.source()
        if source is None or self._running is not None:
            return
        start = context()
        ours, theirs = start.Pipe(duplex=False)
        child = start.Process(
            target=serve,
            args=(theirs, source, self._sessions),
            name="dialogue-replies",
            daemon=True,
        )
        child.start()
        theirs.close()
        self._running = (ours, child)

    async def batches(self) -> AsyncIterator[ReplyBatch]:
        """Each page in turn: from the reader's process if started, else read here."""
        if self._running is None:
            async for page in self._datasets.reply_batches(self._sessions):
                yield page
            return
        ours, child = self._running
        while True:
            batch: ReplyBatch | None = await asyncio.to_thread(_receive, ours, child)
            if batch is None:
                break
            yield batch
        self._read = True

    def close(self) -> None:
        """End the reader: it has ended itself once every page was taken; else it is stopped."""
        if self._running is None:
            return
        ours, child = self._running
        self._running = None
        ours.close()
        if not self._read:
            child.terminate()
        child.join()


def _receive(ours: Connection, child: BaseProcess) -> ReplyBatch | None:
    """The next page (None after the last); the reader's error raised here."""
    try:
        message: ReplyBatch | _Failed | None = ours.recv()
    except (EOFError, ConnectionResetError):
        child.join()
        raise ReaderError(
            f"The replies' reader stopped: its process ended (exit code {child.exitcode})"
        ) from None
    if isinstance(message, _Failed):
        raise message.error
    return message


def serve(pipe: Connection, source: Source, sessions: list[SessionRow]) -> None:
    """The reader's process: every page of ``sessions``' replies, then None, or the error."""
    with contextlib.suppress(BrokenPipeError):  # the walk stopped early
        asyncio.run(_read(pipe, source, sessions))


async def _read(pipe: Connection, source: Source, sessions: list[SessionRow]) -> None:
    engine = make_engine(source.url, source.keys)
    try:
        try:
            async for batch in Datasets(engine, source.batch_size).reply_batches(sessions):
                # Sent from a thread, so the next page is read meanwhile.
                await asyncio.to_thread(pipe.send, batch)
        except BrokenPipeError:
            raise
        except Exception as failed:
            _send_failure(pipe, failed)
            return
        pipe.send(None)
    finally:
        await engine.dispose()


def _send_failure(pipe: Connection, failed: Exception) -> None:
    """Send the error; one that cannot cross the pipe goes as its type's name and message."""
    try:
        pipe.send(_Failed(failed))
    except BrokenPipeError:
        raise
    except Exception:
        pipe.send(_Failed(ReaderError(f"{type(failed).__name__}: {failed}")))
