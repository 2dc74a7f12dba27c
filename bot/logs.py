"""Logging with structured fields; participants' words are never passed to a logger.

Secrets (tokens, the pseudonym key, the database password) are masked in every line written,
tracebacks included, whatever a server answered or a library put in a message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from bot.platforms.registry import PLATFORMS
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
    "apscheduler",
    "aiohttp",
    *(name for kind in PLATFORMS for name in kind.quiet_loggers),
)
# Loggers that write request URLs or server answers (which may echo a URL), such as a Bot API
# URL holding the token: each platform names its own. Their errors also reach the caller as
# exceptions, so nothing is lost.
SILENT_LIBRARIES = tuple(name for kind in PLATFORMS for name in kind.silent_loggers)
HIDDEN = "[hidden]"
FIELDS = ("kind", "group", "session", "step", "captures", "platform", "responses", "votes")


class Masks:
    """Replaces every known secret in a text with ``[hidden]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for value in secrets:
            # As written, and as it appears in a URL; a bot token's secret half on its own.
            _, _, half = value.partition(":")
            forms |= {value, quote(value), quote(value, safe=""), half if len(half) >= 8 else ""}
        ordered = sorted(filter(None, forms), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        """The text with each secret hidden."""
        return self._pattern.sub(HIDDEN, text) if self._pattern else text


class FieldsFormatter(logging.Formatter):
    """Appends the structured fields a record carries as key=value; secrets are masked."""

    def __init__(self, fmt: str | None = None, masks: Masks | None = None) -> None:
        super().__init__(fmt)
        self.masks = masks or Masks()

    def format(self, record: logging.LogRecord) -> str:
        """The message (and any traceback) followed by its fields, secrets hidden."""
        base = super().format(record)
        fields = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS if hasattr(record, k))
        return self.masks(f"{base} {fields}" if fields else base)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the structured fields."""

    def __init__(self, masks: Masks | None = None) -> None:
        super().__init__()
        self.masks = masks or Masks()

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, secrets hidden."""
        entry: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return self.masks(json.dumps(entry, default=str))


def configure(
    level: str, file: Path | None, masks: Masks | None = None, style: str = "text"
) -> None:
    """Send logs to ``file`` (or standard error) at ``level``, as text or JSON lines.

    ``masks`` hide secrets in every line, tracebacks included.
    """
    handler: logging.Handler
    if file is not None:
        handler = logging.FileHandler(private_file(file), encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(masks)
        if style == "json"
        else FieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", masks)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
    for name in SILENT_LIBRARIES:
        logging.getLogger(name).setLevel(logging.CRITICAL)
