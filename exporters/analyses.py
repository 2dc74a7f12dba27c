"""The export's analyses (themes, opinion groups) in a process of their own.

scikit-learn, SciPy, pandas and red-dwarf, and the fits' arrays, never enter the export's
process: ``Analyses`` starts a process forked from multiprocessing's fork server (a fresh
interpreter started on first use, never a copy of the export's process; 'spawn' where the
platform has no fork server), and what crosses the pipe between the two is the analyses' inputs
and results alone: the open replies' texts, already redacted, consented and pseudonymised (a
fixed sample to fit the themes on, then every text a batch of ``OpenReplies`` at a time, so
neither process holds the cycle's texts at once), the Polis ballots, and back each reply's place
in a theme and the opinion groups. Nothing is written to disk. A failure in the child, or its
end, is an ``AnalysisError`` naming the analysis.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import cast

import pyarrow as pa

from exporters import opinion, theme_fit
from exporters.polis import Ballots
from exporters.theme_fit import Placed
from exporters.themes import FEWEST_REPLIES, OpenReplies, sample

THEMES = "themes"
GROUPS = "opinion groups"
_TEXTS = pa.schema([("text", pa.string())])
_END = b""
# A process forked from the fork server starts in milliseconds rather than as a new interpreter.
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class AnalysisError(Exception):
    """An analysis failed in its process; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class _Failed:
    why: str


@dataclass(frozen=True, slots=True)
class Found:
    """What the analyses found."""

    groups: opinion.OpinionGroups
    themes: tuple[Placed, ...]


class Analyses:
    """The analyses' process of one export: started once, as early as there is work for it.

    ``start`` (called by ``OpenReplies`` once the walk has found enough replies for themes)
    starts it and has it load the themes' libraries (about 2 s of CPU, most of the process's
    own time) while the export's process goes on walking the cycle, on the machine's other
    core; ``analyse`` starts it if nothing did. ``close`` ends it.
    """

    def __init__(self) -> None:
        self._running: tuple[Connection, BaseProcess] | None = None

    def start(self) -> None:
        """Start the process, if not yet started, loading the themes' libraries at once."""
        self._process(theme_fit.LIBRARIES)

    def _process(self, preload: tuple[str, ...]) -> tuple[Connection, BaseProcess]:
        if self._running is None:
            start = context()
            ours, theirs = start.Pipe()
            child = start.Process(
                target=serve, args=(theirs, preload), name="dialogue-analyses", daemon=True
            )
            child.start()
            theirs.close()
            self._running = (ours, child)
        return self._running

    def analyse(self, ballots: Ballots, replies: OpenReplies, fit_sample: int) -> Found:
        """Opinion groups of ``ballots`` and themes of ``replies`` (fitted on ``fit_sample``)."""
        if len(replies) < FEWEST_REPLIES and not opinion.sought(ballots):
            return Found(opinion.NO_GROUPS, ())  # nothing to analyse: no process is started
        ours, child = self._process(())
        try:
            placed = _themes(ours, child, replies, fit_sample)
            _send(ours, (GROUPS, ballots))
            groups = cast(opinion.OpinionGroups, _answer(ours, child, GROUPS))
        finally:
            self.close()
        return Found(groups, placed)

    def close(self) -> None:
        """End the process, if started: it ends when its pipe does."""
        if self._running is not None:
            ours, child = self._running
            self._running = None
            ours.close()
            child.join()


def _themes(
    ours: Connection, child: BaseProcess, replies: OpenReplies, fit_sample: int
) -> tuple[Placed, ...]:
    """Fit on a sample; if themes were found, stream every text to be placed."""
    if len(replies) < FEWEST_REPLIES:
        return ()
    _send(ours, (THEMES, replies.texts(sample(len(replies), fit_sample))))
    if not _answer(ours, child, THEMES):
        return ()
    # If the child stops reading, its answer below says why.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        for _, texts in replies.batches():
            ours.send_bytes(pa.record_batch([texts], schema=_TEXTS).serialize())
        ours.send_bytes(_END)
    return tuple(cast(list[Placed], _answer(ours, child, THEMES)))


def context() -> ForkServerContext | SpawnContext:
    """The export's way of starting a process of its own (``START_METHOD``)."""
    if START_METHOD == "forkserver":
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _send(ours: Connection, message: object) -> None:
    """Send to the child; one that has ended (even before it was asked) says so in its answer."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        ours.send(message)


def _answer(ours: Connection, child: BaseProcess, analysis: str) -> object:
    """The child's answer; an ``AnalysisError`` naming ``analysis`` if it failed."""
    try:
        answer = ours.recv()
    except (EOFError, ConnectionResetError):
        child.join()
        raise AnalysisError(
            f"The {analysis} analysis stopped: its process ended (exit code {child.exitcode})"
        ) from None
    if isinstance(answer, _Failed):
        raise AnalysisError(f"The {analysis} analysis failed: {answer.why}")
    return answer


def serve(pipe: Connection, preload: tuple[str, ...]) -> None:
    """The child: load ``preload``, then answer each analysis until the pipe closes or one fails.

    A library that fails to load here fails again where its analysis imports it, and is
    reported there, naming the analysis.
    """
    for library in preload:
        with contextlib.suppress(Exception):
            importlib.import_module(library)
    while True:
        try:
            analysis, given = pipe.recv()
        except EOFError:
            return
        try:
            if analysis == THEMES:
                pipe.send(_place(pipe, given))
            else:
                pipe.send(opinion.opinion_groups(given))
        except (EOFError, BrokenPipeError):
            return  # the export stopped before the analysis was done
        except Exception as failed:
            pipe.send(_Failed(f"{type(failed).__name__}: {failed}"))
            return


def _place(pipe: Connection, fitted_on: list[str]) -> list[Placed] | None:
    """Fit, say whether themes were found, then place each batch of texts received."""
    placing = theme_fit.fit(fitted_on)
    if placing is None:
        return None
    pipe.send(True)
    while message := pipe.recv_bytes():
        batch = pa.ipc.read_record_batch(pa.py_buffer(message), _TEXTS)
        placing.place(batch.column(0))
    return placing.themes()
