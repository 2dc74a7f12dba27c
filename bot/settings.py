"""Settings: one pydantic object from a TOML file, with DIALOGUE_SECTION__KEY overrides.

Secrets (platform tokens, the pseudonym key) come from the environment only.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from bot.content.sample import SAMPLE_ROOT
from bot.platforms import registry
from bot.platforms.section import PlatformSection, Section

# The settings file `dialogue init` writes, read from the current folder when present.
DEFAULT_CONFIG = "dialogue.toml"
# The password of a database URL (scheme://user:PASSWORD@host/...).
_PASSWORD = re.compile(r"[^:/]+://[^:/@]*:(?P<password>[^@]+)@")
# The secrets read from DIALOGUE_<NAME>: the pseudonym key, each platform's (telegram_token).
ENVIRONMENT_SECRETS = ("pseudonym_key", *registry.environment_secrets())
# A platform's own secret written in its table ([discord] token) is refused too.
PLATFORM_SECRET_KEYS = frozenset(key for kind in registry.PLATFORMS for key in kind.secrets)
SECRET_KEYS = frozenset(ENVIRONMENT_SECRETS) | PLATFORM_SECRET_KEYS


class DatabaseSettings(Section):
    """Where data is stored."""

    url: str = "sqlite+aiosqlite:///./dialogue.db"
    # The per-person keys (a file of their own, backed up apart from the database); unset:
    # beside a SQLite file (dialogue.keys), or for a server's database in this account's data
    # folder (~/.local/share/distributed-dialogue/HOST-PORT-DATABASE.keys).
    keys: Path | None = None


class ContentSettings(Section):
    """Where scripts and cards live, and the language participants are spoken to in."""

    root: Path = Path(".")
    language: str = "en"


class RolesSettings(Section):
    """Who may do what: staff as 'platform:user_id'; facilitators per 'platform:chat_id'."""

    staff: list[str] = Field(default_factory=list)
    facilitators: dict[str, list[str]] = Field(default_factory=dict)


class PrivacySettings(Section):
    """Pseudonyms for exports and erasure records."""

    key_file: Path | None = None


class LoggingSettings(Section):
    """Where the bot logs (never participants' words)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    file: Path | None = None
    # "json": one JSON object a line, for log collectors.
    format: Literal["text", "json"] = "text"


class HealthSettings(Section):
    """The running bot's local health and metrics endpoint (off unless an address is set)."""

    # HOST:PORT serving /healthz and /metrics (Prometheus), e.g. "127.0.0.1:9464".
    listen: str = ""

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if value and (not host or not port.isdigit() or not 0 < int(port) < 65536):
            raise ValueError("write the address as HOST:PORT, for example 127.0.0.1:9464")
        return value


class CaptureSettings(Section):
    """The capture path: the writer's queue and batches, long messages, remembered ids."""

    # Submissions waiting for the writer; when full, handlers wait (nothing is dropped).
    queue_size: Annotated[int, Field(ge=1)] = 1000
    # At most this many handled events are committed in one transaction.
    batch_size: Annotated[int, Field(ge=1)] = 500
    # Longer messages are stored cut to this many characters, marked with their real length.
    max_message_chars: Annotated[int, Field(ge=1)] = 20000
    # Days to remember handled message ids (so redeliveries are ignored) and early edits.
    remember_days: Annotated[int, Field(ge=1)] = 30
    # Commit in a process of the writer's own, on another core beside the chat handlers
    # (false: in the bot's process, which halves the most replies a second it can take).
    writer_process: bool = True


class LimitsSettings(Section):
    """How fast one person may send commands before the bot politely stops listening."""

    commands_per_minute: Annotated[float, Field(gt=0)] = 20.0
    command_burst: Annotated[int, Field(ge=1)] = 8


class CycleSettings(Section):
    """Dialogue cycles: the cycle used before any is created, and what closing one writes."""

    default: str = "default"
    # Where closing a cycle writes its "what we heard" draft card (default: resources/).
    heard_folder: Path | None = None
    # At most this many quotes (from people who agreed to be quoted) in the draft.
    max_quotes: int = Field(default=12, ge=0, le=200)
    # If set, closing a cycle also writes its CSV export into FOLDER/CYCLE-ID/.
    export_folder: Path | None = None


class ScheduleSettings(Section):
    """The scheduler: time zone, reminders, and how late a missed job may still run."""

    enabled: bool = True
    timezone: str = "Europe/London"
    reminder_minutes: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [1440, 60])
    misfire_grace_seconds: int = Field(default=900, ge=1)
    poll_seconds: int = Field(default=60, ge=1, le=3600)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}'; use a name like 'Europe/London' or 'UTC'"
            ) from None
        return value


class RetentionSettings(Section):
    """How long replies and votes are kept; a daily purge removes older ones."""

    # 0 keeps them until erased by hand; people with nothing left stored are purged regardless.
    days: int = Field(default=0, ge=0)


RedactKind = Literal[
    "email",
    "url",
    "address",
    "nhs_number",
    "ni_number",
    "date_of_birth",
    "phone",
    "postcode",
    "mention",
]
REDACT_KINDS: tuple[RedactKind, ...] = get_args(RedactKind)


class ExportSettings(Section):
    """Dataset exports: default profile, small-cell suppression, and what free text loses."""

    profile: Literal["research", "public"] = "research"
    suppression_threshold: int = Field(default=10, ge=1)
    redact: list[RedactKind] = Field(default_factory=lambda: list(REDACT_KINDS))
    # Labels a public export may print for groups, by 'platform:chat id' (for example
    # "telegram:-1003" = "Youth forum"); a group without one is known by its code only.
    public_group_labels: dict[str, str] = Field(default_factory=dict)
    # Staff's narrative for the cycle report, in Markdown: NARRATIVE/CYCLE/summary.md, heard.md,
    # worked.md and next.md (each optional; raw HTML in them is shown as text).
    narrative: Path = Path("narrative")
    # Staff's renames, merges and drops of a cycle's themes: FOLDER/CYCLE-ID/themes.toml,
    # applied by every later export of the cycle (exporters.themes).
    themes_folder: Path | None = None

    def themes_file(self, cycle_id: str | None) -> Path | None:
        """The theme file of a cycle's exports, if staff keep one."""
        if self.themes_folder is None or cycle_id is None:
            return None
        return self.themes_folder / cycle_id / "themes.toml"


class DirectSettings(Section):
    """Residents taking part on their own, in a private chat with the bot."""

    # One gentle reminder this many hours after someone stops half-way, if they said yes to
    # it when they stopped; 0 never reminds (and never asks).
    reminder_hours: int = Field(default=48, ge=0, le=24 * 60)


class FacilitationSettings(Section):
    """What facilitators show their groups: charts and the "what we heard today" summary."""

    # Counts from 1 to this minus one are hidden in /show charts and summaries (with any
    # count that would give a hidden one away).
    chart_threshold: int = Field(default=3, ge=1)
    # Where the console writes the pictures it "sends" (charts), printing each path.
    console_images: Path = Path("console-images")


def _platform_tables() -> type[BaseModel]:
    """A settings base with one table per registered platform, named after it."""
    tables: dict[str, Any] = {
        kind.name: (model, Field(default_factory=model))
        for kind in registry.PLATFORMS
        for model in (kind.settings_model(),)
    }
    return create_model("PlatformTables", **tables)


# The platforms' tables come from the registry, so mypy sees them as Any (each platform's
# code reads its own table through ``platform_section``, typed by its model).
class Settings(_platform_tables()):  # type: ignore[misc]
    """Every setting of a deployment: the tables below, and one per platform."""

    model_config = ConfigDict(extra="forbid")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    content: ContentSettings = Field(default_factory=ContentSettings)
    roles: RolesSettings = Field(default_factory=RolesSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    cycle: CycleSettings = Field(default_factory=CycleSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    direct: DirectSettings = Field(default_factory=DirectSettings)
    facilitation: FacilitationSettings = Field(default_factory=FacilitationSettings)

    def platform_section(self, name: str) -> PlatformSection:
        """The table of the platform called ``name``."""
        section = getattr(self, name)
        assert isinstance(section, PlatformSection), name
        return section


class ConfigError(Exception):
    """A configuration problem a person can fix; the message names the file and key."""


def load_settings(path: Path | None) -> Settings:
    """Settings from ``path`` with environment overrides.

    Without ``path``, ``dialogue.toml`` in the current folder when there is one, else the
    built-in defaults. Content that is not set and not found here is the shipped sample.
    """
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = Path(DEFAULT_CONFIG)
    settings = _read(path)
    content = settings.content
    if "root" not in content.model_fields_set and not (content.root / "prompts").is_dir():
        content.root = SAMPLE_ROOT
        # Drafts are the deployment's own, never written into the installed package.
        settings.cycle.heard_folder = settings.cycle.heard_folder or Path("drafts")
    return settings


def _read(path: Path | None) -> Settings:
    data: dict[str, Any] = {}
    where = str(path) if path else "the built-in defaults"
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: file not found; check the --config path") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: the file is not UTF-8 text; save it as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: this is not valid TOML: {exc}") from None
    for section, values in data.items():
        for key in values if isinstance(values, dict) else ():
            if key in SECRET_KEYS:
                # A platform's own secret ([discord] token) lives in DIALOGUE_DISCORD_TOKEN.
                name = f"{section}_{key}" if key in PLATFORM_SECRET_KEYS else key
                raise ConfigError(
                    f"{path}: {section}.{key}: secrets must not be written in the config file; "
                    f"set the environment variable DIALOGUE_{name.upper()} instead"
                )
    overrides = _environment()
    for section, values in overrides.items():
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            table.update(values)
    if overrides:
        named = f"the environment ({', '.join(_names(overrides))})"
        where = f"{path} or {named}" if path else named
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_explain(where, e) for e in exc.errors())) from None


def _environment() -> dict[str, dict[str, Any]]:
    """DIALOGUE_SECTION__KEY variables by table and key; a list or table is written as JSON."""
    found: dict[str, dict[str, Any]] = {}
    for name, value in os.environ.items():
        section, sep, key = name.upper().removeprefix("DIALOGUE_").partition("__")
        if not name.upper().startswith("DIALOGUE_") or not sep:
            continue
        field = Settings.model_fields.get(section.lower())
        if field is None or key.lower() in SECRET_KEYS:
            continue
        found.setdefault(section.lower(), {})[key.lower()] = _value(value)
    return found


def _value(text: str) -> Any:
    # A list or a table ('["telegram:1"]', '{"a": "b"}') is JSON; anything else is as written.
    if text.lstrip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _names(overrides: dict[str, dict[str, Any]]) -> list[str]:
    return [f"DIALOGUE_{s.upper()}__{k.upper()}" for s, keys in overrides.items() for k in keys]


def _explain(where: str, error: Any) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: {key}: unknown setting; check the spelling (see config.example.toml)"
    return f"{where}: {key}: {error['msg']}"


def secret(name: str) -> str | None:
    """A secret from the environment (DIALOGUE_<NAME>), or None."""
    value = os.environ.get(f"DIALOGUE_{name.upper()}", "").strip()
    return value or None


def secrets_in_use(settings: Settings) -> list[str]:
    """Every secret this deployment holds: those in the environment, the database password."""
    found = [value for name in ENVIRONMENT_SECRETS if (value := secret(name))]
    # Read from the text, not a parsed URL: a URL too broken to parse is still printed.
    password = _PASSWORD.match(settings.database.url)
    if password:
        found += [password["password"], unquote(password["password"])]
    return found
