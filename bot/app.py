"""The composition root: the one place that builds objects from settings."""

from __future__ import annotations

import logging
import secrets
import sys
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.check import Library, load_library
from bot.content.problems import ContentError
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.descriptor import Descriptor, Wiring
from bot.platforms.registry import PLATFORMS, find
from bot.private_files import private_file
from bot.service.drafts import HeardDrafts
from bot.service.intake import IntakeRules
from bot.service.shell import Policy, Service, utcnow
from bot.settings import ConfigError, Settings, secret, secrets_in_use
from bot.texts import Catalogue
from exporters.pseudonymise import Pseudonymiser
from storage.cursors import PlatformCursors
from storage.db import make_engine, sqlite_file, upgrade
from storage.writer import QueuedRepository

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.core.ports import Platform
    from bot.scheduling.scheduler import Scheduler
    from bot.service.cycles import Cycles
    from exporters.disclosure import Disclosure

KEY_FILE_NAME = "dialogue.key"
MIN_KEY_BYTES = 16  # as the Pseudonymiser requires

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything a running bot is made of."""

    settings: Settings
    library: Library
    texts: Catalogue
    database: AsyncEngine
    repository: QueuedRepository
    pseudonymiser: Pseudonymiser
    service: Service

    async def close(self) -> None:
        """Commit every capture still queued, then release the database."""
        await self.repository.close()
        await self.database.dispose()


async def build(settings: Settings) -> App:
    """Load content, migrate and open the database, and wire the service."""
    library = load_library(settings.content.root, settings.content.language, lazy=True)
    texts = Catalogue.load(settings.content.language)
    if settings.content.language not in library.consents:
        raise ConfigError(
            f"content.language: there is no consent text in '{settings.content.language}' "
            f"under {settings.content.root / 'prompts' / 'consent'}"
        )
    key = pseudonym_key(settings)
    pseudonymiser = Pseudonymiser(key)
    await upgrade(settings.database.url, settings.database.keys)
    database = make_engine(settings.database.url, settings.database.keys)
    capture = settings.capture
    repository = QueuedRepository(
        database,
        key,
        queue_size=capture.queue_size,
        batch_size=capture.batch_size,
        remember=timedelta(days=capture.remember_days),
        own_process=capture.writer_process,
    )
    await repository.start()
    rules = IntakeRules(
        max_message_chars=capture.max_message_chars,
        commands_per_minute=settings.limits.commands_per_minute,
        command_burst=settings.limits.command_burst,
    )
    service = Service(
        repository,
        library,
        texts,
        policy(settings),
        pseudonymiser,
        rules=rules,
        drafts=heard_drafts(settings, database, texts),
    )
    await service.resume()
    return App(settings, library, texts, database, repository, pseudonymiser, service)


def cycles(app: App) -> Cycles:
    """Cycle operations on the app's database, with its content and settings."""
    # Imported here: ``dialogue run`` loads them after its console is ready (see bot.cli.run).
    from bot.service.cycles import Cycles
    from storage.cycles import CycleStore
    from storage.datasets import Datasets

    settings = app.settings
    export_folder = settings.cycle.export_folder

    async def export(cycle_id: str) -> Path:
        # Imported here so that a bot that never exports at close never loads pyarrow.
        from exporters.dataset import ExportOptions, export_dataset

        assert export_folder is not None
        out = export_folder / cycle_id
        themes = settings.export.themes_file(cycle_id)
        options = ExportOptions(out, cycle_id, "cycle-close", utcnow(), themes_file=themes)
        await export_dataset(
            Datasets(app.database), app.service.library, app.pseudonymiser, options
        )
        return out

    async def publishing(cycle_id: str) -> Disclosure:
        # Imported here too: the cycle's disclosure decision needs the export's counts.
        from exporters import published

        disclosure, _ = await published.cycle_disclosure(
            Datasets(app.database),
            app.service.library,
            cycle_id,
            settings.content.language,
            settings.export.suppression_threshold,
            app.pseudonymiser,
        )
        return disclosure

    return Cycles(
        CycleStore(app.database),
        app.database,
        lambda: app.service.library,
        app.texts,
        settings.content.language,
        heard_drafts(settings, app.database, app.texts),
        settings.cycle.max_quotes,
        settings.cycle.default,
        publishing,
        export if export_folder is not None else None,
    )


def heard_drafts(settings: Settings, database: AsyncEngine, texts: Catalogue) -> HeardDrafts:
    """The deployment's "what we heard" drafts: their folder, redaction and withdrawal text."""
    folder = settings.cycle.heard_folder or settings.content.root / "resources"
    withdrawn = partial(texts.get, settings.content.language, "heard.withdrawn")
    return HeardDrafts(database, folder, tuple(settings.export.redact), withdrawn)


def scheduler(app: App, cycle_ops: Cycles) -> Scheduler:
    """The deployment's scheduler (not started: ``dialogue run`` starts it)."""
    from bot.scheduling.scheduler import Scheduler

    def reload_content() -> None:
        # A closed cycle's new "what we heard" card becomes usable without a restart.
        try:
            app.service.library = app.library = load_library(
                app.settings.content.root, app.settings.content.language, lazy=True
            )
        except ContentError as exc:
            log.warning(
                "content not reloaded after closing a cycle: %s problems", len(exc.problems)
            )

    return Scheduler(
        app.service,
        cycle_ops,
        app.database,
        app.repository.record_audit,
        app.settings.schedule,
        app.settings.retention.days,
        reload_content,
    )


def policy(settings: Settings) -> Policy:
    """Roles and defaults from the settings."""
    facilitators: dict[GroupRef, frozenset[PersonRef]] = {}
    staff: frozenset[PersonRef] = frozenset()
    registered: frozenset[GroupRef] = frozenset()
    admins: frozenset[str] = frozenset()
    for kind in PLATFORMS:
        roles = kind.roles(settings.platform_section(kind.name))
        for group, people in roles.facilitators.items():
            facilitators[group] = facilitators.get(group, frozenset()) | people
        staff |= roles.staff
        registered |= roles.registered
        admins |= {kind.name} if roles.admins_facilitate else set()
    for key, names in settings.roles.facilitators.items():
        platform, chat = _split(f"roles.facilitators.{key}", key)
        group = GroupRef(platform, chat)
        people = frozenset(PersonRef(platform, n) for n in names)
        facilitators[group] = facilitators.get(group, frozenset()) | people
    staff |= {PersonRef(*_split("roles.staff", s)) for s in settings.roles.staff}
    return Policy(
        staff,
        facilitators,
        settings.cycle.default,
        settings.content.language,
        registered=registered,
        admins_facilitate=admins,
        timezone=settings.schedule.timezone,
        solo_reminder=timedelta(hours=hours) if (hours := settings.direct.reminder_hours) else None,
        chart_threshold=settings.facilitation.chart_threshold,
    )


def _split(field: str, value: str) -> tuple[str, str]:
    platform, _, rest = value.partition(":")
    if not platform or not rest:
        raise ConfigError(
            f"{field}: '{value}' should look like 'platform:id', e.g. 'telegram:1234'"
        )
    return platform, rest


def key_file(settings: Settings) -> Path | None:
    """Where the pseudonym key file is (None: only the environment can give the key)."""
    database_file = sqlite_file(settings.database.url)
    return settings.privacy.key_file or (
        database_file.parent / KEY_FILE_NAME if database_file else None
    )


def secrets_held(settings: Settings) -> list[str]:
    """Every secret to keep out of what is printed: those in use, and a key kept in a file."""
    held = secrets_in_use(settings)
    path = key_file(settings)
    if path is not None and path.is_file():
        held.append(path.read_text(encoding="utf-8", errors="replace").strip())
    return held


def pseudonym_key(settings: Settings) -> bytes:
    """The pseudonym key: from DIALOGUE_PSEUDONYM_KEY, else a private file beside SQLite."""
    value = secret("pseudonym_key")
    if value is not None:
        return _long_enough(value.encode("utf-8"), "DIALOGUE_PSEUDONYM_KEY")
    path = key_file(settings)
    if path is None:
        raise ConfigError(
            "DIALOGUE_PSEUDONYM_KEY: this secret is missing; set it in the environment, for "
            "example to the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if path.exists():
        return _long_enough(path.read_bytes().strip(), str(path))
    key = secrets.token_hex(32).encode("ascii")
    private_file(path, new=True).write_bytes(key)
    print(
        f"Created a new pseudonym key in {path} (readable only by you). Keep it safe: "
        "exports made with another key cannot be linked to these.",
        file=sys.stderr,
    )
    return key


def _long_enough(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"{where}: the pseudonym key is {len(key)} bytes long and must be at least "
            f"{MIN_KEY_BYTES}; use the key this deployment always used (pseudonyms depend on "
            "it), or for a new one the output of: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return key


def chat_platform(app: App, name: str) -> Platform:
    """The adapter of the chat platform called ``name``, attached to the service (not started).

    Raises ConfigError when there is no such platform, or it misses a secret it needs.
    """
    kind = find(name)
    platform = _attached(app, kind) if kind else None
    if platform is None:
        raise ConfigError(f"{name}: there is no chat platform of this name to connect to")
    return platform


def enabled_platforms(app: App) -> list[Platform]:
    """The chat platforms the settings enable, built and attached (not yet started)."""
    return [
        platform
        for kind in PLATFORMS
        if app.settings.platform_section(kind.name).enabled
        and (platform := _attached(app, kind)) is not None
    ]


def _attached(app: App, kind: Descriptor) -> Platform | None:
    """The platform's adapter attached to the service; None for the console (run drives it)."""
    settings = app.settings
    wiring = Wiring(
        app.service,
        app.texts,
        settings.content.language,
        app.library,
        settings.content.root / "resources",
        PlatformCursors(app.database),
    )
    platform = kind.build(settings.platform_section(kind.name), wiring)
    if platform is not None:
        app.service.attach(platform)
    return platform
