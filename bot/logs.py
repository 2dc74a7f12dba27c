"""Logging with structured fields; participants' words are never passed to a logger."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

# Libraries that log statement parameters or message payloads at DEBUG/INFO: they would
# write participants' words to the log, so they are held at WARNING whatever the level.
QUIET_LIBRARIES = (
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "alembic",
    "httpx",
    "httpcore",
    "telegram",
    "discord",
    "apscheduler",
    "aiohttp",
)
FIELDS = ("kind", "group", "session", "step", "captures", "platform", "responses", "votes")


class FieldsFormatter(logging.Formatter):
    """Appends the structured fields a record carries as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        """The message followed by its fields."""
        base = super().format(record)
        fields = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS if hasattr(record, k))
        return f"{base} {fields}" if fields else base


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str, file: Path | None, style: str = "text") -> None:
    """Send logs to ``file`` (or standard error) at ``level``, as text or JSON lines."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if style == "json"
        else FieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
