"""The database schema as SQLAlchemy models; Alembic migrations must match it exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; naive datetimes are refused because their zone is unknown."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; pass an aware one")
        utc = value.astimezone(UTC)
        # SQLite has no zone type and would store the offset inconsistently.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values that come back naive (SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base holding the application's metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Identity(Base):
    """A platform user; the only table that holds platform user ids."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String)
    user_id: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Group(Base):
    """A group chat on a platform."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String)
    chat_id: Mapped[str] = mapped_column(String)
    title: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Facilitator(Base):
    """A person allowed to steer sessions in a group."""

    __tablename__ = "facilitators"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(Base):
    """The scopes a person agreed to for one group, and to which consent text."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("participant_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    participate: Mapped[bool]
    quote: Mapped[bool]
    profile: Mapped[bool]
    followup: Mapped[bool]
    consent_version: Mapped[str] = mapped_column(String)
    text_hash: Mapped[str] = mapped_column(String)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Session(Base):
    """One run of a script in a group, persisted at every step change."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_status", "status"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    cycle_id: Mapped[str | None] = mapped_column(String, index=True)
    script_id: Mapped[str | None] = mapped_column(String)
    script_version: Mapped[str | None] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    step_index: Mapped[int]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    step_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Response(Base):
    """A consented reply; (platform, chat_id, message_id) makes redelivery a no-op."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    step_id: Mapped[str] = mapped_column(String)
    platform: Mapped[str] = mapped_column(String)
    chat_id: Mapped[str] = mapped_column(String)
    message_id: Mapped[str] = mapped_column(String)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String)
    reply_to: Mapped[str | None] = mapped_column(String)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ResponseEdit(Base):
    """An earlier text of a reply, kept when the reply is edited."""

    __tablename__ = "response_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    previous_text: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Vote(Base):
    """A person's current answer to a choice step."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("session_id", "participant_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    step_id: Mapped[str] = mapped_column(String)
    # Comma-separated option numbers ("1,3"): portable and readable in a raw dump.
    options: Mapped[str] = mapped_column(String)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRecord(Base):
    """Something done to the data that must be provable later; never holds ids or text."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


identities = Base.metadata.tables["identities"]
groups = Base.metadata.tables["groups"]
facilitators = Base.metadata.tables["facilitators"]
consents = Base.metadata.tables["consents"]
sessions = Base.metadata.tables["sessions"]
responses = Base.metadata.tables["responses"]
response_edits = Base.metadata.tables["response_edits"]
votes = Base.metadata.tables["votes"]
audit = Base.metadata.tables["audit"]
