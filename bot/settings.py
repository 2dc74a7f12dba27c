"""Settings: one pydantic object from a TOML file, with DIALOGUE_SECTION__KEY overrides.

Secrets (platform tokens, the pseudonym key) come from the environment only.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SECRET_KEYS = ("pseudonym_key", "telegram_token", "discord_token", "token")


class Section(BaseModel):
    """A settings table: unknown keys are errors, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(Section):
    """Where data is stored."""

    url: str = "sqlite+aiosqlite:///./dialogue.db"


class ContentSettings(Section):
    """Where scripts and cards live, and the language participants are spoken to in."""

    root: Path = Path(".")
    language: str = "en"


class ConsoleSettings(Section):
    """The local console platform."""

    enabled: bool = True
    group: str = "console"
    facilitators: list[str] = Field(default_factory=lambda: ["facilitator"])


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


class CycleSettings(Section):
    """The cycle new sessions belong to until cycles are managed from the command line."""

    default: str = "default"


class Settings(BaseSettings):
    """Every setting of a deployment."""

    model_config = SettingsConfigDict(
        env_prefix="DIALOGUE_", env_nested_delimiter="__", extra="forbid"
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    content: ContentSettings = Field(default_factory=ContentSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    roles: RolesSettings = Field(default_factory=RolesSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    cycle: CycleSettings = Field(default_factory=CycleSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables override what the file says."""
        return env_settings, init_settings


class ConfigError(Exception):
    """A configuration problem a person can fix; the message names the file and key."""


def load_settings(path: Path | None) -> Settings:
    """Settings from ``path`` (or the built-in defaults) with environment overrides."""
    data: dict[str, Any] = {}
    where = str(path) if path else "the environment"
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
                raise ConfigError(
                    f"{path}: {section}.{key}: secrets must not be written in the config file; "
                    f"set the environment variable DIALOGUE_{key.upper()} instead"
                )
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_explain(where, e) for e in exc.errors())) from None


def _explain(where: str, error: Any) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: {key}: unknown setting; check the spelling (see config.example.toml)"
    return f"{where}: {key}: {error['msg']}"


def secret(name: str) -> str | None:
    """A secret from the environment (DIALOGUE_<NAME>), or None."""
    value = os.environ.get(f"DIALOGUE_{name.upper()}", "").strip()
    return value or None
