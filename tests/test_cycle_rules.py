"""The pure rules about cycles and time: offered scripts, /scripts, /schedule, scheduled moments.

No database and no clock: the engine gets the time, the open cycle and the zone in its Context.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.content.check import Library, load_library
from bot.core import engine
from bot.core.actions import SendPrivate, SendText
from bot.core.captures import SessionSaved
from bot.core.context import Actor, Context
from bot.core.effects import SessionScheduled
from bot.core.events import CommandIssued, TimerFired
from bot.core.ids import GroupRef, PersonRef
from bot.core.schedule import NoSuchLocalTime, parse_local, step_timer
from bot.core.state import SessionState, Status
from bot.texts import Catalogue
from tests.support.cli import ROOT

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)
GROUP = GroupRef("console", "g")
FRAN = PersonRef("console", "fran")
SCRIPT = "health-data-intro"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(ROOT)


def context(library: Library, offered: frozenset[str] | None = None) -> Context:
    return Context(library, Catalogue.load(), NOW, "2027-c1", offered=offered, zone=LONDON)


def lead() -> Actor:
    return Actor(FRAN, GROUP, frozenset({"participate"}), facilitator=True, registered=True)


def command(text: str) -> CommandIssued:
    name, *args = text[1:].split()
    return CommandIssued(FRAN, GROUP, name, tuple(args), NOW)


def private_text(result_actions: tuple[object, ...]) -> str:
    (reply,) = result_actions
    assert isinstance(reply, SendPrivate)
    return reply.text


@pytest.mark.parametrize(
    ("date", "clock", "utc"),
    [
        ("2027-03-27", "18:30", datetime(2027, 3, 27, 18, 30, tzinfo=UTC)),  # GMT
        ("2027-03-28", "18:30", datetime(2027, 3, 28, 17, 30, tzinfo=UTC)),  # BST began
        ("2027-10-31", "01:30", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),  # twice: the first
        ("2027-10-31", "02:30", datetime(2027, 10, 31, 2, 30, tzinfo=UTC)),  # GMT again
    ],
)
def test_local_times_are_read_in_the_deployment_zone_across_daylight_saving(
    date: str, clock: str, utc: datetime
) -> None:
    assert parse_local(date, clock, LONDON) == utc


def test_a_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(NoSuchLocalTime):
        parse_local("2027-03-28", "01:30", LONDON)


def test_every_script_may_start_while_no_cycle_was_ever_created(library: Library) -> None:
    result = engine.step(SessionState(GROUP), command(f"/start {SCRIPT}"), lead(), context(library))
    assert result.state is not None and result.state.status is Status.RUNNING
    assert result.state.cycle_id == "2027-c1"


def test_a_script_the_open_cycle_does_not_offer_is_refused_with_the_ones_it_does(
    library: Library,
) -> None:
    ctx = context(library, offered=frozenset({"other"}))
    before = SessionState(GROUP)
    result = engine.step(before, command(f"/start {SCRIPT}"), lead(), ctx)
    assert result.state == before and result.captures == ()
    assert private_text(result.actions) == ctx.t(
        "cycle.not_offered", script=SCRIPT, cycle="2027-c1", scripts="-"
    )


def test_between_cycles_no_session_starts(library: Library) -> None:
    ctx = context(library, offered=frozenset())
    result = engine.step(SessionState(GROUP), command(f"/start {SCRIPT}"), lead(), ctx)
    assert private_text(result.actions) == ctx.t("cycle.none_open")


def test_scripts_lists_the_open_cycles_scripts_to_facilitators_only(library: Library) -> None:
    ctx = context(library, offered=frozenset({SCRIPT}))
    listing = private_text(engine.step(None, command("/scripts"), lead(), ctx).actions)
    assert listing.startswith(ctx.t("cycle.scripts", cycle="2027-c1"))
    assert f"- {SCRIPT}: {library.scripts[SCRIPT].title}" in listing
    someone = Actor(PersonRef("console", "alice"), GROUP)
    refused = private_text(engine.step(None, command("/scripts"), someone, ctx).actions)
    assert refused == ctx.t("facilitator.refused", command="scripts")


def test_schedule_stores_the_time_in_utc_and_confirms_it_in_local_time(library: Library) -> None:
    ctx = context(library)
    result = engine.step(
        SessionState(GROUP), command(f"/schedule {SCRIPT} 2027-03-28 18:30"), lead(), ctx
    )
    due = datetime(2027, 3, 28, 17, 30, tzinfo=UTC)
    assert result.effects == (SessionScheduled(GROUP, FRAN, SCRIPT, due),)
    assert private_text(result.actions) == ctx.t(
        "schedule.done",
        title=library.scripts[SCRIPT].title,
        when="Sun, 28 Mar 2027, 18:30 United Kingdom Time",
    )


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ("2027-03-28", "schedule.usage"),
        ("2027-13-01 10:00", "schedule.bad_when"),
        ("2027-02-30 10:00", "schedule.bad_when"),
        ("2027-03-28 25:00", "schedule.bad_when"),
        ("2027-03-28 01:30", "schedule.no_such_time"),
        ("2027-03-26 10:00", "schedule.past"),
    ],
    ids=["missing-time", "no-such-month", "no-such-day", "no-such-hour", "clocks-skip", "past"],
)
def test_schedule_refuses_what_it_cannot_honour(library: Library, args: str, key: str) -> None:
    ctx = context(library)
    result = engine.step(SessionState(GROUP), command(f"/schedule {SCRIPT} {args}"), lead(), ctx)
    assert result.effects == ()
    prefix = ctx.t(key, example="X", zone=LONDON, when="X").split("X")[0]
    assert private_text(result.actions).startswith(prefix)
    if key == "schedule.bad_when":  # names what it could not read, and shows what it can
        example = f"{SCRIPT} 2027-03-28 18:30"
        assert private_text(result.actions) == ctx.t(key, when=args, example=example)


def test_schedule_is_refused_where_no_scheduler_would_open_the_session(library: Library) -> None:
    ctx = replace(context(library), scheduling=False)
    result = engine.step(
        SessionState(GROUP), command(f"/schedule {SCRIPT} 2027-03-28 18:30"), lead(), ctx
    )
    assert result.effects == ()
    assert private_text(result.actions) == ctx.t("schedule.off")


def running(library: Library, index: int = 0) -> SessionState:
    started = engine.step(
        SessionState(GROUP), command(f"/start {SCRIPT}"), lead(), context(library)
    ).state
    assert started is not None
    return replace(started, step_index=index)


def timer(state: SessionState, kind: str = "step", **fields: object) -> TimerFired:
    values: dict[str, object] = {
        "session_id": state.session_id,
        "step_index": state.step_index,
        "step_started_at": state.step_started_at,
        **fields,
    }
    return TimerFired(GROUP, kind, NOW + timedelta(minutes=5), FRAN, **values)  # type: ignore[arg-type]


def test_a_step_timer_warns_privately_and_a_stale_one_does_nothing(library: Library) -> None:
    ctx = context(library)
    state = running(library)
    warned = engine.step(state, timer(state), lead(), ctx)
    assert warned.state == state and warned.captures == ()
    step = library.scripts[SCRIPT].steps[0]
    assert private_text(warned.actions) == ctx.t(
        "timer.warning", minutes=f"{step.minutes} minutes", number=1, step=step.id
    )
    for stale in (
        timer(state, step_index=1),
        timer(state, session_id="old"),
        timer(state, step_started_at=NOW - timedelta(hours=1)),
    ):
        assert engine.step(state, stale, lead(), ctx).actions == ()
    paused = replace(state, status=Status.PAUSED)
    assert engine.step(paused, timer(paused), lead(), ctx).actions == ()


def test_a_step_marked_auto_advance_moves_on_by_itself(library: Library) -> None:
    script = library.scripts[SCRIPT]
    steps = (script.steps[0].model_copy(update={"auto_advance": True}), *script.steps[1:])
    quick = replace(library, scripts={SCRIPT: script.model_copy(update={"steps": steps})})
    state = running(quick)
    moved = engine.step(state, timer(state), lead(), context(quick))
    assert moved.state is not None and moved.state.step_index == 1
    assert SessionSaved(moved.state) in moved.captures


def test_closing_a_cycle_ends_its_running_session_politely(library: Library) -> None:
    ctx = context(library)
    state = running(library)
    closed = engine.step(state, timer(state, "close"), lead(), ctx)
    assert closed.state is not None and closed.state.status is Status.ENDED
    assert closed.actions == (SendText(GROUP, ctx.t("cycle.session_closed")),)


def test_a_scheduled_opening_without_a_known_facilitator_tells_only_the_group(
    library: Library,
) -> None:
    ctx = context(library)
    nobody = Actor(PersonRef("console", ""), GROUP, registered=True)
    event = TimerFired(GROUP, "open", NOW, None, script_id=SCRIPT, due=NOW)
    opened = engine.step(SessionState(GROUP), event, nobody, ctx)
    assert opened.state is not None and opened.state.status is Status.RUNNING
    assert opened.actions and not any(isinstance(a, SendPrivate) for a in opened.actions)


def test_the_step_timer_follows_the_steps_suggested_minutes(library: Library) -> None:
    state = running(library)
    minutes = library.scripts[SCRIPT].steps[0].minutes
    assert minutes is not None
    found = step_timer(state, context(library))
    assert found is not None and found.due == NOW + timedelta(minutes=minutes)
    assert step_timer(replace(state, status=Status.PAUSED), context(library)) is None


def test_schedule_in_a_group_not_registered_for_dialogues_is_refused(library: Library) -> None:
    ctx = context(library)
    unregistered = replace(lead(), registered=False)
    result = engine.step(
        SessionState(GROUP), command(f"/schedule {SCRIPT} 2027-03-28 18:30"), unregistered, ctx
    )
    assert result.effects == ()
    assert private_text(result.actions) == ctx.t("groups.not_registered")
