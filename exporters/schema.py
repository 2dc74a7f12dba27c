"""The tables of an export: every column with its type and meaning, in one place.

The CSV and Parquet writers, ``datapackage.json`` and the export's README all read these, so
the data and its documentation cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.content.scopes import SCOPES

PROFILES = ("research", "public")
STEP_KINDS = ("message", "card", "prompt", "choice", "feedback", "break", "close")
SESSION_STATUSES = ("not_started", "running", "paused", "ended")
ALL_GROUPS = "all"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its Frictionless type (string, integer, boolean, datetime, date), meaning."""

    name: str
    type: str
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """Columns that refer to another table's columns."""

    fields: tuple[str, ...]
    table: str
    reference: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the export, written as ``NAME.csv`` and ``NAME.parquet``."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c.name for c in self.columns)

    def by_day(self) -> Table:
        """The same table with every time cut to its day (UTC), as the public profile has it."""
        return replace(
            self,
            columns=tuple(
                replace(c, type="date", description=c.description.replace("When", "The day"))
                if c.type == "datetime"
                else c
                for c in self.columns
            ),
        )

    def without(self, *names: str) -> Table:
        """The same table less some columns (and the keys that used them)."""
        return replace(
            self,
            columns=tuple(c for c in self.columns if c.name not in names),
            primary_key=() if set(self.primary_key) & set(names) else self.primary_key,
            foreign_keys=tuple(
                k for k in self.foreign_keys if not set(k.fields).intersection(names)
            ),
        )


def _s(name: str, description: str, required: bool = False) -> Column:
    return Column(name, "string", description, required)


def _i(name: str, description: str, required: bool = False) -> Column:
    return Column(name, "integer", description, required)


def _b(name: str, description: str) -> Column:
    return Column(name, "boolean", description, True)


def _t(name: str, description: str, required: bool = False) -> Column:
    return Column(name, "datetime", description, required)


GROUP = _s("group", "The group: 'platform:chat id' (research) or a keyed code (public).", True)
SESSION = _s("session_id", "The session (one run of a script in a group).", True)
CYCLE = _s("cycle_id", "The deliberation cycle the session belonged to.")
SCRIPT = _s("script_id", "The deliberation script the session ran.")
VERSION = _s("script_version", "The version of the script the session ran.")
CONTENT = _s(
    "content_version",
    "The exact content the person was shown: the first 12 hex digits of the SHA-256 of the "
    "script and its cards (manifest.json lists them whole). Empty for sessions from before "
    "versions were kept, which are labelled from the content at export time.",
)
STEP = _s("step_id", "The step of the script (stable across versions).", True)
PARTICIPANT = _s(
    "participant", "Keyed pseudonym of the person (HMAC-SHA256, not reversible).", True
)
IN_SESSION = ForeignKey(("session_id",), "sessions", ("session_id",))
IN_GROUP = ForeignKey(("group",), "groups", ("group",))
BY_PERSON = ForeignKey(("participant", "group"), "participants", ("participant", "group"))
COUNT_NOTE = " Empty when suppressed (a small count, or one that would reveal one)."

GROUPS = Table(
    "groups",
    "The groups whose sessions are in this export.",
    (
        GROUP,
        _s("platform", "The chat platform (console, telegram, discord).", True),
        _s(
            "title",
            "The group's name as staff recorded it; in the public profile, only the label staff "
            "gave for publication (export.public_group_labels), else empty.",
        ),
        _i("sessions", "Sessions the group held in this export.", True),
    ),
    ("group",),
)
SESSIONS = Table(
    "sessions",
    "One row per session: which script ran where and when.",
    (
        SESSION,
        CYCLE,
        GROUP,
        SCRIPT,
        VERSION,
        CONTENT,
        _s("language", "Language of the script."),
        Column("status", "string", "Where the session ended up.", True, SESSION_STATUSES),
        _t("started_at", "When the session started (UTC)."),
        _t("ended_at", "When the facilitator ended it (UTC); empty if it was not ended."),
        _i("minutes", "Minutes from start to end; empty if it was not ended."),
        _i("steps_shown", "How many times a step was put in front of the group.", True),
    ),
    ("session_id",),
    (IN_GROUP,),
)
STEP_VISITS = Table(
    "step_visits",
    "Each time a step was put in front of a group, and how long it stayed there.",
    (
        SESSION,
        STEP,
        _i("position", "The step's number in the script (1 is the first).", True),
        _t("started_at", "When the step was shown (UTC).", True),
        _i("minutes", "Minutes until the next step or the end (pauses included); empty if open."),
        _i("planned_minutes", "Minutes the script planned for the step."),
    ),
    foreign_keys=(IN_SESSION,),
)
STEPS = Table(
    "steps",
    "The codebook: every step of the scripts used, with its prompt text.",
    (
        _s("script_id", "The script.", True),
        _s("script_version", "The script's version as it ran.", True),
        _s("content_version", "The content version (see sessions.content_version).", True),
        STEP,
        _i("position", "The step's number in the script (1 is the first).", True),
        Column("kind", "string", "What the step does.", True, STEP_KINDS),
        _s("text", "What the group was shown or asked.", True),
        _i("planned_minutes", "Minutes the script planned for the step."),
        _b("multiple", "Whether a choice step accepted several answers."),
        _i("options", "How many answers a choice step offered (see step_options).", True),
        _s("cards", "Ids of the resource cards the step showed, separated by ';'."),
        _b("polis_statement", "Whether the step is exported as a Polis statement (polis/)."),
    ),
    ("script_id", "script_version", "content_version", "step_id"),
)
STEP_OPTIONS = Table(
    "step_options",
    "The answers each choice step offered, numbered as in votes.options.",
    (
        _s("script_id", "The script.", True),
        _s("script_version", "The script's version.", True),
        _s("content_version", "The content version (see sessions.content_version).", True),
        STEP,
        _i("option", "The answer's number (1 is the first).", True),
        _s("label", "The answer as shown.", True),
    ),
    ("script_id", "script_version", "content_version", "step_id", "option"),
    (
        ForeignKey(
            ("script_id", "script_version", "content_version", "step_id"),
            "steps",
            ("script_id", "script_version", "content_version", "step_id"),
        ),
    ),
)
CARD_EXPOSURES = Table(
    "card_exposures",
    "Which resource card (and version) each session showed, and when.",
    (
        SESSION,
        GROUP,
        STEP,
        _s("card_id", "The card.", True),
        _s("card_version", "The card's version when it was shown.", True),
        _s("card_title", "The card's title as the session showed it."),
        _t("shown_at", "When the card was shown (UTC).", True),
    ),
    foreign_keys=(IN_SESSION,),
)
PARTICIPANTS = Table(
    "participants",
    "One row per person and group: the consent they gave. No profile questions exist yet.",
    (
        PARTICIPANT,
        GROUP,
        *(_b(scope, f"Whether the person agreed to the '{scope}' scope.") for scope in SCOPES),
        _s("consent_version", "Version of the consent text agreed to.", True),
        _s("consent_text_hash", "SHA-256 of the exact consent text agreed to.", True),
        _t("consented_at", "When consent was given (UTC).", True),
        _b("returning", "Whether the person took part in an earlier cycle."),
    ),
    ("participant", "group"),
)
PROFILE_ANSWERS = Table(
    "profile_answers",
    "Answers to the optional profile questions, only of people who agreed to 'profile'.",
    (
        PARTICIPANT,
        _s("question_id", "The profile question (see prompts/profile/ in the content).", True),
        _s("answer", "The answer chosen; empty when the person skipped the question."),
        _t("answered_at", "When the person answered (UTC).", True),
    ),
    ("participant", "question_id"),
)
RESPONSES = Table(
    "responses",
    "One row per captured reply, redacted of personal details.",
    (
        _i("response_id", "The reply's id.", True),
        CYCLE,
        GROUP,
        SESSION,
        SCRIPT,
        VERSION,
        CONTENT,
        STEP,
        _s("step_text", "The step's prompt as the person was shown it."),
        _s("language", "Language of the script the reply answered."),
        _s(
            "reply_language",
            "Language the bot spoke to the person in when they replied: their own choice, else "
            "their platform's, else the deployment's (empty: from before languages were kept).",
        ),
        PARTICIPANT,
        _s("text", "What the person wrote, with personal details replaced by [kind]."),
        _i("redactions", "How many personal details were replaced in the text.", True),
        _s("kind", "Message kind (text, or e.g. sticker with empty text).", True),
        _t("posted_at", "When the reply was posted (UTC).", True),
        _t("edited_at", "When the reply was last edited (UTC); earlier texts are not exported."),
        _s("message_id", "The platform's id of the message within the group.", True),
        _s("reply_to", "message_id of the message this one replied to, if any."),
    ),
    ("response_id",),
    (
        IN_SESSION,
        IN_GROUP,
        BY_PERSON,
    ),
)
VOTES = Table(
    "votes",
    "One row per person's current answer to a choice step in a session.",
    (
        _i("vote_id", "The vote's id.", True),
        CYCLE,
        GROUP,
        SESSION,
        SCRIPT,
        VERSION,
        CONTENT,
        STEP,
        PARTICIPANT,
        _s("options", "The chosen answers' numbers in their version, separated by ';'.", True),
        _s("option_labels", "The chosen answers as the person saw them, separated by ';'."),
        _t("cast_at", "When the answer was given (UTC).", True),
    ),
    ("vote_id",),
    (
        IN_SESSION,
        IN_GROUP,
        BY_PERSON,
    ),
)
PARTICIPATION = Table(
    "participation",
    "People who replied and replies, by group and step: every group, zeros too ('all' rows "
    "sum the groups).",
    (
        _s("group", "The group's code, or 'all'.", True),
        _s("script_id", "The script.", True),
        STEP,
        _i("participants", "People who replied (counted once per group)." + COUNT_NOTE),
        _i("replies", "Replies." + COUNT_NOTE),
    ),
    ("group", "script_id", "step_id"),
)
VOTE_COUNTS = Table(
    "vote_counts",
    "Answers to each choice step, by group: every group, zeros too ('all' rows sum the groups).",
    (
        _s("group", "The group's code, or 'all'.", True),
        _s("script_id", "The script.", True),
        STEP,
        _i(
            "option",
            "The answer's number in the newest version of the script that ran (answers only "
            "older versions offered follow); answers are counted by the label people saw.",
            True,
        ),
        _s("label", "The answer as shown."),
        _i("votes", "People who chose this answer." + COUNT_NOTE),
    ),
    ("group", "script_id", "step_id", "option"),
)
CONSENT_COUNTS = Table(
    "consent_counts",
    "People who agreed to each consent scope, by group: every group, zeros too ('all' rows sum "
    "the groups).",
    (
        _s("group", "The group's code, or 'all'.", True),
        Column("scope", "string", "The consent scope.", True, SCOPES),
        _i("participants", "People who agreed to it." + COUNT_NOTE),
    ),
    ("group", "scope"),
)


REFLECTIONS = Table(
    "reflections",
    "Facilitators' reflections on their sessions, for the learning report (redacted).",
    (
        SESSION,
        GROUP,
        _s("went_well", "What went well; empty when skipped or not answered."),
        _s("was_hard", "What was hard; empty when skipped or not answered."),
        _s("to_change", "What to change next time; empty when skipped or not answered."),
        _t("reflected_at", "When the reflection was last answered (UTC).", True),
    ),
    ("session_id",),
    (IN_SESSION, IN_GROUP),
)

OPINION_GROUPS = Table(
    "opinion_groups",
    "Opinion groups from the agree/disagree votes, the Polis way (red-dwarf): per group the "
    "statements that set it apart, then ('all') the statements most people share.",
    (
        _s("group", "The opinion group's number, or 'all' for statements shared by all.", True),
        _i("people", "People in the group (empty for 'all')." + COUNT_NOTE),
        Column("role", "string", "Why it is listed.", True, ("representative", "consensus")),
        Column("direction", "string", "Agreed or disagreed with.", True, ("agree", "disagree")),
        _i("rank", "Its place in the group's list, most significant first.", True),
        _s("script_id", "The script.", True),
        STEP,
        _s("statement", "The statement, as people saw it.", True),
    ),
    ("group", "role", "direction", "rank"),
)
THEMES = Table(
    "themes",
    "Themes found in replies to prompts (TF-IDF and k-means, offline), as staff edited them.",
    (
        _s("theme_id", "The theme: its distinctive words; staff's theme file names it so.", True),
        _s("name", "Its name: staff's, or its distinctive words.", True),
        _s("words", "The words that set its replies apart, most distinctive first.", True),
        _i("participants", "People whose replies are in it." + COUNT_NOTE),
        _i("replies", "Replies in it." + COUNT_NOTE),
    ),
    ("theme_id",),
)
THEME_QUOTES = Table(
    "theme_quotes",
    "Quotes for each theme, only from people who agreed to be quoted (redacted).",
    (
        _s("theme_id", "The theme.", True),
        _i("rank", "Its place, nearest the theme's centre first.", True),
        _s("quote", "The reply, redacted.", True),
    ),
    ("theme_id", "rank"),
    (ForeignKey(("theme_id",), "themes", ("theme_id",)),),
)
THEME_REPLIES = Table(
    "theme_replies",
    "The replies in each theme.",
    (
        _s("theme_id", "The theme.", True),
        _i("response_id", "The reply (responses.response_id).", True),
    ),
    ("response_id",),
    (
        ForeignKey(("theme_id",), "themes", ("theme_id",)),
        ForeignKey(("response_id",), "responses", ("response_id",)),
    ),
)

# A reply's id (its gaps show where unquotable replies were), the platform's message ids, and
# who it answered: none of them helps a reader, each could help find the person.
PUBLIC_REMOVED = ("participant", "response_id", "message_id", "reply_to")


def tables_for(profile: str) -> tuple[Table, ...]:
    """The tables a profile exports, in the order they are written and documented."""
    common = (GROUPS, SESSIONS, STEP_VISITS, STEPS, STEP_OPTIONS, CARD_EXPOSURES)
    analyses = (OPINION_GROUPS, THEMES, THEME_QUOTES)
    if profile == "public":
        return (
            *(t.by_day() for t in common),
            RESPONSES.without(*PUBLIC_REMOVED).by_day(),
            PARTICIPATION,
            VOTE_COUNTS,
            CONSENT_COUNTS,
            *analyses,
        )
    return (
        *common,
        PARTICIPANTS,
        PROFILE_ANSWERS,
        RESPONSES,
        VOTES,
        REFLECTIONS,
        *analyses,
        THEME_REPLIES,
    )
