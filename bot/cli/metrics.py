"""The running bot's local endpoint: ``/healthz`` (JSON) and ``/metrics`` (Prometheus).

Off unless ``health.listen`` is set. Everything served is a count, a duration or a state:
no participant's words, no platform ids, no group names.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.app import App
from bot.core.captures import ResponseCaptured
from bot.scheduling.scheduler import Scheduler
from storage._batch import Submission

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Counts(Collector):
    """Reads the bot's own counters when Prometheus scrapes."""

    def __init__(self, app: App, timers: Scheduler | None, replies: list[int]) -> None:
        self._app = app
        self._timers = timers
        self._replies = replies

    def collect(self) -> Iterator[Metric]:
        """Replies captured, queue depth, platform errors, scheduled runs, writer state."""
        yield CounterMetricFamily(
            "dialogue_replies_captured",
            "Replies of consenting people stored since the bot started",
            value=self._replies[0],
        )
        repository = self._app.repository
        yield GaugeMetricFamily(
            "dialogue_queue_depth", "Writes waiting for the writer", value=repository.queued
        )
        yield GaugeMetricFamily(
            "dialogue_writer_up", "1 while the writer runs", value=int(repository.running)
        )
        errors = CounterMetricFamily(
            "dialogue_platform_errors", "Actions a platform failed to perform", labels=["platform"]
        )
        for platform, count in sorted(self._app.service.platform_errors.items()):
            errors.add_metric([platform], count)
        yield errors
        runs = CounterMetricFamily(
            "dialogue_scheduled_runs", "Scheduled jobs run by this process", labels=["kind"]
        )
        for kind, count in sorted(self._timers.work.ran.items() if self._timers else ()):
            runs.add_metric([kind], count)
        yield runs


class Endpoint:
    """The HTTP endpoint of one running bot, served from a thread of its own."""

    def __init__(self, app: App, timers: Scheduler | None) -> None:
        self.registry = CollectorRegistry()
        self._replies = [0]
        self._latency = Histogram(
            "dialogue_commit_seconds",
            "Time the writer took to commit one batch",
            registry=self.registry,
        )
        self.registry.register(_Counts(app, timers, self._replies))
        self._app = app
        self._metrics = make_wsgi_app(self.registry)
        self._server: WSGIServer | None = None
        app.repository.on_commit = self._committed

    def _committed(self, stored: Sequence[Submission], seconds: float) -> None:
        self._latency.observe(seconds)
        self._replies[0] += sum(isinstance(c, ResponseCaptured) for s in stored for c in s.captures)

    def health(self) -> dict[str, object]:
        """What /healthz says: ok while the writer runs."""
        repository = self._app.repository
        return {
            "status": "ok" if repository.running else "critical",
            "writer": "running" if repository.running else "stopped",
            "queue_depth": repository.queued,
            "time": time.time(),
        }

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        """The WSGI application: /healthz, /metrics, and 404 for anything else."""
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics(environ, start)
            return body
        if path == "/healthz":
            found = self.health()
            status = "200 OK" if found["status"] == "ok" else "503 Service Unavailable"
            start(status, [("Content-Type", "application/json")])
            return [json.dumps(found).encode()]
        start("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: try /healthz or /metrics\n"]

    def start(self, listen: str) -> None:
        """Serve on ``listen`` (HOST:PORT) until ``stop``."""
        host, _, port = listen.rpartition(":")
        self._server = make_server(host, int(port), self, handler_class=_Quiet)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="health").start()

    def stop(self) -> None:
        """Stop serving and let the commit hook go."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._app.repository.on_commit = None


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a line each on standard error."""
