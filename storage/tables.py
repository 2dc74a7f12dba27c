"""The database schema as SQLAlchemy models; Alembic migrations must match it exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
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
    """A platform user; the only table that holds platform user ids, and only sealed.

    ``user_key`` is a blind index of the user id (a keyed hash, see storage._keys) to find the
    row by; ``sealed_user_id`` is the id sealed under the person's own key (NULL only inside
    the transaction that creates the row), so destroying the key leaves no readable id.
    """

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String)
    user_key: Mapped[str] = mapped_column(String)
    sealed_user_id: Mapped[str | None] = mapped_column(String)
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
    """A person's consent in one group: to which consent text, and when (scopes: ConsentScope)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("participant_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    consent_version: Mapped[str] = mapped_column(String)
    text_hash: Mapped[str] = mapped_column(String)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentScope(Base):
    """One scope a person agreed to in a group; it goes with the consent it belongs to."""

    __tablename__ = "consent_scopes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["participant_id", "group_id"],
            ["consents.participant_id", "consents.group_id"],
            ondelete="CASCADE",
        ),
        Index("ix_consent_scopes_scope", "scope"),
    )

    participant_id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String, primary_key=True)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Session(Base):
    """One run of a script in a group, persisted at every step change."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_status", "status"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    cycle_id: Mapped[str | None] = mapped_column(String, index=True)
    script_id: Mapped[str | None] = mapped_column(String)
    script_version: Mapped[str | None] = mapped_column(String)
    # The content version it ran (see content_versions); NULL for sessions from before them.
    content_version: Mapped[str | None] = mapped_column(String)
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
    # Set when the text was cut to capture.max_message_chars: how long it really was.
    original_length: Mapped[int | None]


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


class StepVisit(Base):
    """A step presented in a session (written when a saved session's step starts anew)."""

    __tablename__ = "step_visits"
    __table_args__ = (UniqueConstraint("session_id", "started_at", "step_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    step_index: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CardExposure(Base):
    """A resource card (id and version) shown in a session, and when."""

    __tablename__ = "card_exposures"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    step_id: Mapped[str] = mapped_column(String)
    card_id: Mapped[str] = mapped_column(String)
    card_version: Mapped[str] = mapped_column(String)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Export(Base):
    """A dataset export: which cycle, which profile, by whom, when (for erasure notices)."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cycle_id: Mapped[str | None] = mapped_column(String)
    profile: Mapped[str] = mapped_column(String)
    made_by: Mapped[str] = mapped_column(String)


class ExportPseudonym(Base):
    """A pseudonym whose data an export held; erasures after the export are owed to it."""

    __tablename__ = "export_pseudonyms"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    pseudonym: Mapped[str] = mapped_column(String, primary_key=True, index=True)


class HandledMessage(Base):
    """A platform message already handled (or deleted), so a redelivered copy is ignored.

    Holds no person and no text; rows older than capture.remember_days are purged.
    """

    __tablename__ = "handled_messages"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String, primary_key=True)
    message_id: Mapped[str] = mapped_column(String, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ErasedMessage(Base):
    """A message erased (withdrawn, forgotten or deleted), so no copy of it is stored again.

    Only a keyed hash of its platform key: no person, no text, no platform id. Kept for good,
    unlike handled messages: a replay or a catch-up can come at any time.
    """

    __tablename__ = "erased_messages"

    mark: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)


class PendingEdit(Base):
    """A consented person's edit that arrived before its message; applied when it arrives."""

    __tablename__ = "pending_edits"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String, primary_key=True)
    message_id: Mapped[str] = mapped_column(String, primary_key=True)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    original_length: Mapped[int | None]


class PlatformCursor(Base):
    """The newest message the bot handled in a group, so it can read back what it missed.

    Holds no person and no text; written in batches, and only ever moved forward.
    """

    __tablename__ = "platform_cursors"

    platform: Mapped[str] = mapped_column(String, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Cycle(Base):
    """A dialogue cycle: its scripts and dates, and whether it is planned, open or closed."""

    __tablename__ = "cycles"
    __table_args__ = (Index("ix_cycles_state", "state"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(String)
    theme: Mapped[str] = mapped_column(Text)
    scripts: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ScheduledSession(Base):
    """A session scheduled for a group; the facilitator is reminded and it opens on time."""

    __tablename__ = "scheduled_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    script_id: Mapped[str] = mapped_column(String)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScheduleRun(Base):
    """A scheduled job that ran or was missed; its job id as key makes a second run a no-op."""

    __tablename__ = "schedule_runs"

    job_id: Mapped[str] = mapped_column(String, primary_key=True)
    outcome: Mapped[str] = mapped_column(String)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchedulerJob(Base):
    """APScheduler's job store, in the layout its SQLAlchemyJobStore expects; Alembic owns it."""

    __tablename__ = "scheduler_jobs"

    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class SchedulerLease(Base):
    """The one process allowed to run the scheduler, and until when its claim holds."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    holder: Mapped[str] = mapped_column(String)
    host: Mapped[str] = mapped_column(String)
    pid: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Registration(Base):
    """A group staff registered for dialogues: only registered groups run sessions."""

    __tablename__ = "registrations"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StoredProfileAnswer(Base):
    """A person's answer to one optional profile question (NULL: skipped), by participant id."""

    __tablename__ = "profile_answers"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String, primary_key=True)
    answer: Mapped[str | None] = mapped_column(String)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DirectProgress(Base):
    """A resident's place in a cycle's self-paced dialogue, and their one reminder."""

    __tablename__ = "direct_progress"
    __table_args__ = (
        UniqueConstraint("participant_id", "cycle_id"),
        Index("ix_direct_progress_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    cycle_id: Mapped[str] = mapped_column(String)
    script_id: Mapped[str] = mapped_column(String)
    script_version: Mapped[str] = mapped_column(String)
    content_version: Mapped[str | None] = mapped_column(String)
    step_index: Mapped[int]
    status: Mapped[str] = mapped_column(String)
    answered: Mapped[bool]
    # Whether they want one reminder after stopping half-way (NULL: not asked yet).
    remind: Mapped[bool | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The profile question waiting for a typed answer in their private chat (NULL: none).
    profile_question: Mapped[str | None] = mapped_column(String)


class ContentVersion(Base):
    """A script and the cards it shows, as a session ran them, keyed by their SHA-256.

    Written once, when a session first starts on the version; never changed or deleted.
    """

    __tablename__ = "content_versions"

    digest: Mapped[str] = mapped_column(String, primary_key=True)
    script_id: Mapped[str] = mapped_column(String)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionReflection(Base):
    """A facilitator's reflection on a session, for the learning report ('' skipped)."""

    __tablename__ = "session_reflections"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    went_well: Mapped[str | None] = mapped_column(Text)
    was_hard: Mapped[str | None] = mapped_column(Text)
    to_change: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invitation(Base):
    """A person without consent was invited to a group's chat: remembered, so it happens once.

    Holds no person, no group and no text: only a keyed hash of the two
    (``bot.core.ids.invitation_key``). Erasure removes it.
    """

    __tablename__ = "invitations"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionLead(Base):
    """Who last moved a session on: they get its live tallies, also after a restart."""

    __tablename__ = "session_leads"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    led_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HeardQuote(Base):
    """A reply that a cycle's "what we heard" draft quotes as statement ``number``.

    Holds no text and no person: the draft file cannot say who said what, and a withdrawal
    finds its author's quotes here (the row goes with the reply when it is erased).
    """

    __tablename__ = "heard_quotes"

    cycle_id: Mapped[str] = mapped_column(String, primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )


identities = Base.metadata.tables["identities"]
groups = Base.metadata.tables["groups"]
facilitators = Base.metadata.tables["facilitators"]
consents = Base.metadata.tables["consents"]
consent_scopes = Base.metadata.tables["consent_scopes"]
sessions = Base.metadata.tables["sessions"]
responses = Base.metadata.tables["responses"]
response_edits = Base.metadata.tables["response_edits"]
votes = Base.metadata.tables["votes"]
audit = Base.metadata.tables["audit"]
step_visits = Base.metadata.tables["step_visits"]
card_exposures = Base.metadata.tables["card_exposures"]
exports = Base.metadata.tables["exports"]
export_pseudonyms = Base.metadata.tables["export_pseudonyms"]
handled_messages = Base.metadata.tables["handled_messages"]
erased_messages = Base.metadata.tables["erased_messages"]
pending_edits = Base.metadata.tables["pending_edits"]
platform_cursors = Base.metadata.tables["platform_cursors"]
cycles = Base.metadata.tables["cycles"]
scheduled_sessions = Base.metadata.tables["scheduled_sessions"]
schedule_runs = Base.metadata.tables["schedule_runs"]
scheduler_jobs = Base.metadata.tables["scheduler_jobs"]
scheduler_lease = Base.metadata.tables["scheduler_lease"]
registrations = Base.metadata.tables["registrations"]
profile_answers = Base.metadata.tables["profile_answers"]
direct_progress = Base.metadata.tables["direct_progress"]
session_reflections = Base.metadata.tables["session_reflections"]
invitations = Base.metadata.tables["invitations"]
session_leads = Base.metadata.tables["session_leads"]
content_versions = Base.metadata.tables["content_versions"]
heard_quotes = Base.metadata.tables["heard_quotes"]
