"""The writer's database work in a process of its own, beside the bot's event loop.

In one process the bot's handlers and the writer take turns: Python runs one thread at a time,
and the thread that waits on SQLite must win the interpreter back from a busy event loop after
every statement. With the commits in a child process, the two run on two cores at once.

A bot process starts one helper, ``python -m storage.writer_process``, which imports the
writer's code once and forks a writer for each database the bot opens: a writer is ready in
milliseconds, not the second it takes to import SQLAlchemy. The helper runs in a session of
its own, so a terminal's Ctrl-C or a signal to the bot's process group does not stop a writer
before the bot has drained its queue through it. The bot talks to its writer over a socket
pair: first the database address, where its key store is and the pseudonym key (never on a
command line, where others could read them), then batch after batch, each answered with what
was applied or the name of the error that stopped it (never its message, which could quote a
reply). A writer exits when the bot closes its end, and the helper when the bot does, also
when the bot is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, cast

from storage._batch import Batch
from storage._commit import LocalCommitter, blocking
from storage._erased import Marks
from storage.collector import settle
from storage.db import (
    DatabaseUnreachable,
    for_writes,
    make_blocking_sqlite_engine,
    make_engine,
    sqlite_file,
    unreachable,
)
from storage.keystore import keys_of
from storage.writer_helper import HELPER, LENGTH, STOP_SECONDS, WriterProcessError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Child:
    pid: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


class ProcessCommitter:
    """Commits batches in a child process (started again if it dies).

    Two batches may be in flight: the child commits one while the next waits in its input,
    and answers them in order.
    """

    overlap = 2

    def __init__(self, url: str, keys: str, key: bytes) -> None:
        """Commit into the database at ``url`` (with its password, if any), keys at ``keys``.

        ``key`` (the pseudonym key) makes the marks of erased messages, never stored again.
        """
        self._url = url
        self._keys = keys
        self._key = key
        self._child: _Child | None = None
        self._starting = asyncio.Lock()
        self._answers: asyncio.Task[None] | None = None
        self._waiting: deque[asyncio.Future[object]] = deque()  # answers due, in order
        self._forget = False
        self._broken = False  # the child stopped answering: start another for the next batch

    @property
    def pid(self) -> int | None:
        """The child's process id, while it runs."""
        return self._child.pid if self._child else None

    async def start(self) -> None:
        """Start the child (if it is not running) and wait until it is ready."""
        await self._running()

    async def commit(self, batch: Batch, now: datetime) -> list[bool]:
        """Send the batch to the child and wait until it is committed there."""
        child = await self._running()
        request = (self._forget, now, batch)
        self._forget = False
        answer = await self._ask(child, request)
        if answer == DatabaseUnreachable.__name__:
            raise DatabaseUnreachable("the writer process could not reach the database")
        if isinstance(answer, str):
            raise WriterProcessError(f"the writer process could not commit ({answer})")
        return cast(list[bool], answer)

    def forget(self) -> None:
        """Have the child forget which people and groups exist, before the next batch."""
        self._forget = True

    async def release(self) -> None:
        """Stop the child if it stopped answering; one that answered with an error goes on."""
        if self._broken:
            await self.close()

    async def close(self) -> None:
        """End the child's input and wait for it to exit (killed if it will not)."""
        child, answers = self._child, self._answers
        self._child, self._answers, self._broken = None, None, False
        if child is None:
            return
        with contextlib.suppress(OSError):
            child.writer.write_eof()  # it answers what it has, then exits
        if answers is not None:
            try:
                await asyncio.wait_for(asyncio.shield(answers), STOP_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
                await answers
        child.writer.close()

    async def _running(self) -> _Child:
        async with self._starting:
            return self._child or await self._start()

    async def _start(self) -> _Child:
        ours, theirs = socket.socketpair()
        with theirs:
            # The first writer starts the helper, which takes a moment: not on the event loop.
            pid = await asyncio.to_thread(HELPER.fork, theirs)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        child = _Child(pid, reader, writer)
        self._child, self._broken = child, False
        self._answers = asyncio.create_task(self._read_answers(child), name="writer-answers")
        if await self._ask(child, (self._url, self._keys, self._key)) != "ready":
            self._broken = True
            raise WriterProcessError("the writer process did not start")
        return child

    async def _ask(self, child: _Child, request: object) -> object:
        if self._broken:
            raise WriterProcessError("the writer process stopped")
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        try:
            child.writer.write(LENGTH.pack(len(payload)) + payload)
            await child.writer.drain()
        except ConnectionError:
            self._broken = True  # the reader fails what waits when it finds the end
        return await answer

    async def _read_answers(self, child: _Child) -> None:
        """Hand each answer to the batch it is for, in order, until the child's output ends."""
        # Until the child exits (or its output is unreadable): then it answers no more.
        with contextlib.suppress(
            asyncio.IncompleteReadError, OSError, pickle.UnpicklingError, struct.error
        ):
            while True:
                (length,) = LENGTH.unpack(await child.reader.readexactly(LENGTH.size))
                answer = pickle.loads(await child.reader.readexactly(length))
                self._waiting.popleft().set_result(answer)
        self._broken = True
        while self._waiting:
            # Not committed, as far as anyone can tell: the writer tries them again.
            self._waiting.popleft().set_exception(WriterProcessError("the writer process stopped"))


def _read(source: IO[bytes]) -> Any:
    header = source.read(LENGTH.size)
    if len(header) < LENGTH.size:
        return None  # the bot closed our input: it is done, or gone
    (length,) = LENGTH.unpack(header)
    return pickle.loads(source.read(length))


def _write(sink: IO[bytes], answer: object) -> None:
    payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    sink.write(LENGTH.pack(len(payload)) + payload)
    sink.flush()


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """The child: commit each batch that comes in, answer, and exit at the end of input."""
    opening = _read(source)
    if opening is None:
        return
    url, keys, key = opening
    loop = asyncio.new_event_loop()
    committer, dispose = _committer(url, keys, Marks(key))
    _write(sink, "ready")
    try:
        while (request := _read(source)) is not None:
            forget, now, batch = request
            _write(sink, loop.run_until_complete(_commit(committer, forget, now, batch)))
    finally:
        loop.run_until_complete(committer.close())
        loop.run_until_complete(dispose())
        loop.close()


def _committer(
    url: str, keys: str, marks: Marks
) -> tuple[LocalCommitter, Callable[[], Awaitable[None]]]:
    """The child's committer, and what ends its engine.

    On SQLite the child blocks while the database works: it has nothing else to do, and the
    async driver would hop between two threads for every statement. PostgreSQL's driver is
    asynchronous without threads.
    """
    if sqlite_file(url) is None:
        engine = make_engine(url, keys)
        return LocalCommitter(for_writes(engine).connect, marks, keys_of(engine)), engine.dispose
    plain = make_blocking_sqlite_engine(url, keys)

    async def dispose() -> None:
        plain.dispose()

    return LocalCommitter(blocking(for_writes(plain)), marks, keys_of(plain)), dispose


async def _commit(
    committer: LocalCommitter, forget: bool, now: datetime, batch: Batch
) -> list[bool] | str:
    if forget:
        committer.forget()
    try:
        return await committer.commit(batch, now)
    except Exception as exc:
        # What the child believed exists may be gone: start afresh, and say only the kind.
        with contextlib.suppress(Exception):  # closing a connection the server dropped
            await committer.release()
        committer.forget()
        return DatabaseUnreachable.__name__ if unreachable(exc) else type(exc).__name__


def _serve_socket(sock: socket.socket) -> None:
    with sock, sock.makefile("rb") as source, sock.makefile("wb") as sink:
        serve(source, sink)


def main() -> None:
    """The helper (``python -m storage.writer_process``): fork a writer for each socket sent.

    Its standard input is its control socket; it exits when the bot closes the other end.
    """
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # writers are reaped as they exit
    control = socket.socket(fileno=sys.stdin.fileno())
    settle()  # its writers, forked from it, inherit the settings and the frozen objects
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1, 1)
        if not message or not fds:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 0
            try:
                _serve_socket(socket.socket(fileno=fds[0]))
            except Exception as exc:
                log.error("the writer process failed", extra={"kind": type(exc).__name__})
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
        control.sendall(LENGTH.pack(pid))


if __name__ == "__main__":
    main()
