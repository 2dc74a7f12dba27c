"""``dialogue health``: is this deployment working? One line per check, an exit status for monitors.

Status 0: every check is ok; 1: a warning (for example no bot is running); 2: critical (the
database is unreachable or behind, a token is missing, the running bot's writer stopped).
Nothing is changed: the database is not migrated, no platform is contacted.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.platforms.registry import PLATFORMS
from bot.settings import Settings, secret
from storage.cycles import CycleStore
from storage.db import make_engine, missing_migrations

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

OK, WARNING, CRITICAL = 0, 1, 2
LABELS = {OK: "ok", WARNING: "warning", CRITICAL: "critical"}


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome: its name, status and a sentence."""

    name: str
    status: int
    says: str


async def run(settings: Settings) -> int:
    """Print every check and return the worst status."""
    found = await checks(settings)
    for check in found:
        print(f"{LABELS[check.status]:<8} {check.name}: {check.says}")
    return max(c.status for c in found)


async def checks(settings: Settings) -> list[Check]:
    """Every check, in order; the database's later checks only when it answers."""
    found = _tokens(settings)
    engine = make_engine(settings.database.url)
    try:
        try:
            behind = await missing_migrations(engine)
        except Exception as exc:  # any driver's failure to connect is this one finding
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return [Check("database", CRITICAL, f"cannot be reached: {reason}"), *found]
        found.insert(0, Check("database", OK, f"reachable ({engine.dialect.name})"))
        found.insert(1, _migrations(behind))
        if settings.schedule.enabled and not behind:
            found.append(await _lease(engine))
    finally:
        await engine.dispose()
    found.append(_writer(settings.health.listen))
    return found


def _migrations(behind: list[str]) -> Check:
    if behind:
        return Check(
            "migrations",
            CRITICAL,
            f"{len(behind)} not applied; run: dialogue db upgrade",
        )
    return Check("migrations", OK, "the schema is up to date")


def _tokens(settings: Settings) -> list[Check]:
    found = []
    for kind in PLATFORMS:
        if kind.required_secret is None or not settings.platform_section(kind.name).enabled:
            continue
        platform, name = kind.name, f"{kind.name}_{kind.required_secret}"
        if secret(name) is None:
            found.append(
                Check(
                    f"{platform} token",
                    CRITICAL,
                    f"{platform}.enabled is true but DIALOGUE_{name.upper()} is not set",
                )
            )
        else:
            found.append(Check(f"{platform} token", OK, "set (not checked online)"))
    return found


async def _lease(engine: AsyncEngine) -> Check:
    lease = await CycleStore(engine).lease()
    if lease is None or lease.expires_at <= datetime.now(UTC):
        return Check("scheduler", WARNING, "no running bot holds the scheduler lease")
    return Check("scheduler", OK, f"held by process {lease.pid} on {lease.host}")


def _writer(listen: str) -> Check:
    if not listen:
        return Check("writer", OK, "not checked: health.listen is off")
    try:
        with urllib.request.urlopen(f"http://{listen}/healthz", timeout=5) as reply:
            found = json.load(reply)
    except urllib.error.HTTPError as exc:
        found = json.load(exc)
    except OSError:
        return Check("writer", WARNING, f"no running bot answers on {listen}")
    if found.get("writer") != "running":
        return Check("writer", CRITICAL, "the running bot's writer has stopped")
    return Check("writer", OK, f"running, {found.get('queue_depth', 0)} writes queued")
