"""Logging with structured fields; participants' words are never passed to a logger."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from bot.private_files import private_file

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


def configure(level: str, file: Path | None) -> None:
    """Send logs to ``file`` (or standard error) at ``level``."""
    handler: logging.Handler
    if file is not None:
        handler = logging.FileHandler(private_file(file), encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
