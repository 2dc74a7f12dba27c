"""The helper process that forks the bot's writers (see :mod:`storage.writer_process`).

Standard library only: ``dialogue run`` starts the helper as soon as it has read its command
line, so the helper imports the writer's code (SQLAlchemy among it) while the bot imports its
own, on another core.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LENGTH = struct.Struct("!I")
STOP_SECONDS = 30.0


class WriterProcessError(RuntimeError):
    """The writer process could not commit a batch (or stopped); nothing of it was written."""


class Helper:
    """The process that forks writers: one per bot process, started with the first writer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def start(self) -> None:
        """Start the helper now, if it is not running, without waiting for it to be ready."""
        with self._lock:
            if self._control is None:
                self._start()

    def fork(self, end: socket.socket) -> int:
        """A new writer serving the other end of ``end``'s pair; its process id (blocking)."""
        with self._lock:
            for _ in range(2):  # a helper that has died is started again, once
                control = self._control or self._start()
                try:
                    socket.send_fds(control, [b"w"], [end.fileno()])
                    answer = control.recv(LENGTH.size, socket.MSG_WAITALL)
                except OSError:
                    answer = b""
                if len(answer) == LENGTH.size:
                    return int(LENGTH.unpack(answer)[0])
                self.stop()
        raise WriterProcessError("the writer process did not start")

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "storage.writer_process"],
                stdin=theirs.fileno(),
                stdout=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
                start_new_session=True,
            )
        self._control = ours
        return ours

    def stop(self) -> None:
        """Stop the helper, if it runs (its writers stop when their bots close their ends)."""
        process, control = self._process, self._control
        self._process = self._control = None
        if control is not None:
            control.close()  # the helper's input ends: it exits
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_SECONDS)
            process.kill()
            process.wait()


HELPER = Helper()
