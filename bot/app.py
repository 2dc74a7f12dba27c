"""The composition root: the one place that builds objects from settings."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.check import Library, load_library
from bot.core.ids import GroupRef, PersonRef
from bot.service import Policy, Service
from bot.settings import ConfigError, Settings, secret
from bot.texts import Catalogue
from exporters.pseudonymise import Pseudonymiser
from storage.db import make_engine, sqlite_file, upgrade
from storage.repositories import Repository

KEY_FILE_NAME = "dialogue.key"


@dataclass
class App:
    """Everything a running bot is made of."""

    settings: Settings
    library: Library
    texts: Catalogue
    database: AsyncEngine
    repository: Repository
    pseudonymiser: Pseudonymiser
    service: Service

    async def close(self) -> None:
        """Release the database."""
        await self.database.dispose()


async def build(settings: Settings) -> App:
    """Load content, migrate and open the database, and wire the service."""
    library = load_library(settings.content.root)
    texts = Catalogue.load()
    if settings.content.language not in library.consents:
        raise ConfigError(
            f"content.language: there is no consent text in '{settings.content.language}' "
            f"under {settings.content.root / 'prompts' / 'consent'}"
        )
    pseudonymiser = Pseudonymiser(pseudonym_key(settings))
    await upgrade(settings.database.url)
    database = make_engine(settings.database.url)
    repository = Repository(database)
    service = Service(repository, library, texts, policy(settings), pseudonymiser)
    await service.resume()
    return App(settings, library, texts, database, repository, pseudonymiser, service)


def policy(settings: Settings) -> Policy:
    """Roles and defaults from the settings."""
    facilitators: dict[GroupRef, frozenset[PersonRef]] = {}
    if settings.console.enabled:
        console = GroupRef("console", settings.console.group)
        facilitators[console] = frozenset(
            PersonRef("console", n) for n in settings.console.facilitators
        )
    for key, names in settings.roles.facilitators.items():
        platform, chat = _split(f"roles.facilitators.{key}", key)
        group = GroupRef(platform, chat)
        people = frozenset(PersonRef(platform, n) for n in names)
        facilitators[group] = facilitators.get(group, frozenset()) | people
    staff = frozenset(PersonRef(*_split("roles.staff", s)) for s in settings.roles.staff)
    return Policy(staff, facilitators, settings.cycle.default, settings.content.language)


def _split(field: str, value: str) -> tuple[str, str]:
    platform, _, rest = value.partition(":")
    if not platform or not rest:
        raise ConfigError(
            f"{field}: '{value}' should look like 'platform:id', e.g. 'telegram:1234'"
        )
    return platform, rest


def pseudonym_key(settings: Settings) -> bytes:
    """The pseudonym key: from DIALOGUE_PSEUDONYM_KEY, else a private file beside SQLite."""
    value = secret("pseudonym_key")
    if value is not None:
        return value.encode("utf-8")
    database_file = sqlite_file(settings.database.url)
    path = settings.privacy.key_file or (
        database_file.parent / KEY_FILE_NAME if database_file else None
    )
    if path is None:
        raise ConfigError(
            "DIALOGUE_PSEUDONYM_KEY: this secret is missing; set it in the environment, for "
            "example to the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    print(
        f"Created a new pseudonym key in {path} (readable only by you). Keep it safe: "
        "exports made with another key cannot be linked to these.",
        file=sys.stderr,
    )
    return key
