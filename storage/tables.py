"""The database schema as SQLAlchemy Core tables; Alembic migrations must match it exactly.

Plain ``Table`` objects on one ``MetaData``, not ORM classes: the bot reads and writes through
SQLAlchemy Core only, and importing the ORM would cost every start of ``dialogue run``. What
each table holds is said in a comment above it; the comments are not in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

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
        _refuse_naive(value)
        utc = value.astimezone(UTC)
        # SQLite has no zone type and would store the offset inconsistently.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, straight to the text SQLAlchemy's DATETIME stores, in one step.

        The same text (``YYYY-MM-DD HH:MM:SS.ffffff``, in UTC) as ``process_bind_param``
        followed by DATETIME's own processor, for half the work: every reply carries a time.
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # The second last written: its first and last moment, and its text up to the dot.
        # Times come in order, many in one second (a batch of replies), and formatting the
        # date and time costs five times what the microseconds do.
        last = (_LATEST, _EARLIEST, "")

        def process(value: datetime | None) -> str | None:
            nonlocal last
            if value is None:
                return None
            if value.tzinfo is not UTC:  # UTC, the commonest by far, is what is stored
                _refuse_naive(value)
                value = value.astimezone(UTC)
            first, final, second = last
            if not first <= value <= final:
                first = value.replace(microsecond=0)
                # isoformat without microseconds, its offset ("+00:00") cut off.
                second = first.isoformat(" ")[:19] + "."
                last = (first, value.replace(microsecond=999999), second)
            micro = value.microsecond
            return f"{second}{_DIGITS[micro // 1000]}{_DIGITS[micro % 1000]}"

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values that come back naive (SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# No time lies from the latest to the earliest: the second a bind processor starts with.
_LATEST, _EARLIEST = datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)
# "000" to "999": a time's microseconds written in two look-ups.
_DIGITS = tuple(f"{n:03d}" for n in range(1000))


def _refuse_naive(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; pass an aware one")


metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _participant(*, primary_key: bool = False, index: bool | None = None) -> Column[int]:
    """A ``participant_id`` column: a person, whose rows go with them when they are erased."""
    return Column(
        "participant_id",
        Integer,
        ForeignKey("identities.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
        index=index,
    )


# A platform user; the only table that holds platform user ids, and only sealed. ``user_key``
# is a blind index of the user id (a keyed hash, see storage._keys) to find the row by;
# ``sealed_user_id`` is the id sealed under the person's own key (NULL only inside the
# transaction that creates the row), so destroying the key leaves no readable id.
identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String, nullable=False),
    Column("user_key", String, nullable=False),
    Column("sealed_user_id", String),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("platform", "user_key"),
)

# A group chat on a platform.
groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String, nullable=False),
    Column("chat_id", String, nullable=False),
    Column("title", String),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("platform", "chat_id"),
)

# A person allowed to steer sessions in a group.
facilitators = Table(
    "facilitators",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    _participant(primary_key=True, index=True),
    Column("granted_at", UTCDateTime(), nullable=False),
)

# A person's consent in one group: to which consent text, and when (scopes: consent_scopes).
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True),
    _participant(),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("consent_version", String, nullable=False),
    Column("text_hash", String, nullable=False),
    Column("given_at", UTCDateTime(), nullable=False),
    # The language of the consent text the person read (``text_hash`` is of that text).
    Column("language", String),
    UniqueConstraint("participant_id", "group_id"),
)

# One scope a person agreed to in a group; it goes with the consent it belongs to.
consent_scopes = Table(
    "consent_scopes",
    metadata,
    Column("participant_id", Integer, primary_key=True),
    Column("group_id", Integer, primary_key=True),
    Column("scope", String, primary_key=True),
    Column("agreed_at", UTCDateTime(), nullable=False),
    ForeignKeyConstraint(
        ["participant_id", "group_id"],
        ["consents.participant_id", "consents.group_id"],
        ondelete="CASCADE",
    ),
    Index("ix_consent_scopes_scope", "scope"),
)

# One run of a script in a group, persisted at every step change.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("cycle_id", String, index=True),
    Column("script_id", String),
    Column("script_version", String),
    # The content version it ran (see content_versions); NULL for sessions from before them.
    Column("content_version", String),
    Column("status", String, nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("started_at", UTCDateTime()),
    Column("step_started_at", UTCDateTime()),
    Column("ended_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    # The language its group posts are in (NULL: from before languages, the deployment's).
    Column("language", String),
    Index("ix_sessions_status", "status"),
)

# A consented reply; (platform, chat_id, message_id) makes redelivery a no-op.
responses = Table(
    "responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", String, ForeignKey("sessions.id"), nullable=False, index=True),
    _participant(index=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("step_id", String, nullable=False),
    Column("platform", String, nullable=False),
    Column("chat_id", String, nullable=False),
    Column("message_id", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String, nullable=False),
    Column("reply_to", String),
    Column("posted_at", UTCDateTime(), nullable=False),
    Column("edited_at", UTCDateTime()),
    # Set when the text was cut to capture.max_message_chars: how long it really was.
    Column("original_length", Integer),
    # The language the bot spoke to its author in (NULL: from before languages).
    Column("language", String),
    UniqueConstraint("platform", "chat_id", "message_id"),
)

# An earlier text of a reply, kept when the reply is edited.
response_edits = Table(
    "response_edits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "response_id",
        Integer,
        ForeignKey("responses.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("previous_text", Text, nullable=False),
    Column("replaced_at", UTCDateTime(), nullable=False),
)

# A person's current answer to a choice step.
votes = Table(
    "votes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", String, ForeignKey("sessions.id"), nullable=False),
    _participant(index=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("step_id", String, nullable=False),
    # Comma-separated option numbers ("1,3"): portable and readable in a raw dump.
    Column("options", String, nullable=False),
    Column("cast_at", UTCDateTime(), nullable=False),
    UniqueConstraint("session_id", "participant_id", "step_id"),
)

# Something done to the data that must be provable later; never holds ids or text.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String, nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_audit_kind_at", "kind", "at"),
)

# A step presented in a session (written when a saved session's step starts anew).
step_visits = Table(
    "step_visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", String, ForeignKey("sessions.id"), nullable=False, index=True),
    Column("step_index", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    UniqueConstraint("session_id", "started_at", "step_index"),
)

# A resource card (id and version) shown in a session, and when.
card_exposures = Table(
    "card_exposures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", String, ForeignKey("sessions.id"), nullable=False, index=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("step_id", String, nullable=False),
    Column("card_id", String, nullable=False),
    Column("card_version", String, nullable=False),
    Column("shown_at", UTCDateTime(), nullable=False),
)

# A dataset export: which cycle, which profile, by whom, when (for erasure notices).
exports = Table(
    "exports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime()),
    Column("cycle_id", String),
    Column("profile", String, nullable=False),
    Column("made_by", String, nullable=False),
)

# A pseudonym whose data an export held; erasures after the export are owed to it.
export_pseudonyms = Table(
    "export_pseudonyms",
    metadata,
    Column("export_id", Integer, ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True),
    Column("pseudonym", String, primary_key=True, index=True),
)

# A platform message already handled (or deleted), so a redelivered copy is ignored. Holds no
# person and no text; rows older than capture.remember_days are purged.
handled_messages = Table(
    "handled_messages",
    metadata,
    Column("platform", String, primary_key=True),
    Column("chat_id", String, primary_key=True),
    Column("message_id", String, primary_key=True),
    Column("handled_at", UTCDateTime(), nullable=False, index=True),
)

# A message erased (withdrawn, forgotten or deleted), so no copy of it is stored again. Only a
# keyed hash of its platform key: no person, no text, no platform id. Kept for good, unlike
# handled messages: a replay or a catch-up can come at any time.
erased_messages = Table(
    "erased_messages",
    metadata,
    Column("mark", LargeBinary, primary_key=True),
)

# A consented person's edit that arrived before its message; applied when it arrives.
pending_edits = Table(
    "pending_edits",
    metadata,
    Column("platform", String, primary_key=True),
    Column("chat_id", String, primary_key=True),
    Column("message_id", String, primary_key=True),
    Column("edited_at", UTCDateTime(), primary_key=True, index=True),
    _participant(index=True),
    Column("text", Text, nullable=False),
    Column("original_length", Integer),
)

# The newest message the bot handled in a group, so it can read back what it missed. Holds no
# person and no text; written in batches, and only ever moved forward.
platform_cursors = Table(
    "platform_cursors",
    metadata,
    Column("platform", String, primary_key=True),
    Column("chat_id", String, primary_key=True),
    Column("message_id", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A dialogue cycle: its scripts and dates, and whether it is planned, open or closed.
cycles = Table(
    "cycles",
    metadata,
    Column("id", String, primary_key=True),
    Column("title", String, nullable=False),
    Column("theme", Text, nullable=False),
    Column("scripts", JSON, nullable=False),
    Column("state", String, nullable=False),
    Column("opens_at", UTCDateTime(), nullable=False),
    Column("closes_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("opened_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Index("ix_cycles_state", "state"),
)

# A session scheduled for a group; the facilitator is reminded and it opens on time.
scheduled_sessions = Table(
    "scheduled_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("script_id", String, nullable=False),
    Column("due_at", UTCDateTime(), nullable=False, index=True),
    Column("facilitator_id", Integer, ForeignKey("identities.id", ondelete="SET NULL"), index=True),
    Column("state", String, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# A scheduled job that ran or was missed; its job id as key makes a second run a no-op.
schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("job_id", String, primary_key=True),
    Column("outcome", String, nullable=False),
    Column("due_at", UTCDateTime()),
    Column("at", UTCDateTime(), nullable=False),
)

# APScheduler's job store, in the layout its SQLAlchemyJobStore expects; Alembic owns it.
scheduler_jobs = Table(
    "scheduler_jobs",
    metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

# The one process allowed to run the scheduler, and until when its claim holds.
scheduler_lease = Table(
    "scheduler_lease",
    metadata,
    Column("name", String, primary_key=True),
    Column("holder", String, nullable=False),
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

# A group staff registered for dialogues: only registered groups run sessions.
# The language a person chose to be spoken to in; stored only once they consented somewhere
# (until then the bot keeps the choice in memory), and erased with them.
person_languages = Table(
    "person_languages",
    metadata,
    _participant(primary_key=True),
    Column("language", String, nullable=False),
    Column("chosen_at", UTCDateTime(), nullable=False),
)

registrations = Table(
    "registrations",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    Column("registered_at", UTCDateTime(), nullable=False),
)

# A person's answer to one optional profile question (NULL: skipped), by participant id.
profile_answers = Table(
    "profile_answers",
    metadata,
    _participant(primary_key=True),
    Column("question_id", String, primary_key=True),
    Column("answer", String),
    Column("answered_at", UTCDateTime(), nullable=False),
)

# A resident's place in a cycle's self-paced dialogue, and their one reminder.
direct_progress = Table(
    "direct_progress",
    metadata,
    Column("id", Integer, primary_key=True),
    _participant(),
    Column("cycle_id", String, nullable=False),
    Column("script_id", String, nullable=False),
    Column("script_version", String, nullable=False),
    Column("content_version", String),
    Column("step_index", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("answered", Boolean, nullable=False),
    # Whether they want one reminder after stopping half-way (NULL: not asked yet).
    Column("remind", Boolean),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime()),
    Column("reminded_at", UTCDateTime()),
    # The profile question waiting for a typed answer in their private chat (NULL: none).
    Column("profile_question", String),
    UniqueConstraint("participant_id", "cycle_id"),
    Index("ix_direct_progress_status", "status"),
)

# A script and the cards it shows, as a session ran them, keyed by their SHA-256. Written once,
# when a session first starts on the version; never changed or deleted.
content_versions = Table(
    "content_versions",
    metadata,
    Column("digest", String, primary_key=True),
    Column("script_id", String, nullable=False),
    Column("content", JSON, nullable=False),
    Column("first_used_at", UTCDateTime(), nullable=False),
)

# A facilitator's reflection on a session, for the learning report ('' skipped).
session_reflections = Table(
    "session_reflections",
    metadata,
    Column("session_id", String, ForeignKey("sessions.id"), primary_key=True),
    _participant(index=True),
    Column("went_well", Text),
    Column("was_hard", Text),
    Column("to_change", Text),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A person without consent was invited to a group's chat: remembered, so it happens once.
# Holds no person, no group and no text: only a keyed hash of the two
# (``bot.core.ids.invitation_key``). Erasure removes it.
invitations = Table(
    "invitations",
    metadata,
    Column("key", String, primary_key=True),
    Column("invited_at", UTCDateTime(), nullable=False),
)

# Who last moved a session on: they get its live tallies, also after a restart.
session_leads = Table(
    "session_leads",
    metadata,
    Column("session_id", String, ForeignKey("sessions.id"), primary_key=True),
    _participant(index=True),
    Column("led_at", UTCDateTime(), nullable=False),
)

# A reply that a cycle's "what we heard" draft quotes as statement ``number``. Holds no text
# and no person: the draft file cannot say who said what, and a withdrawal finds its author's
# quotes here (the row goes with the reply when it is erased).
heard_quotes = Table(
    "heard_quotes",
    metadata,
    Column("cycle_id", String, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column(
        "response_id",
        Integer,
        ForeignKey("responses.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)
