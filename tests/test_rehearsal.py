"""Rehearsal: a facilitator runs a script alone and sees what the group would; nothing is kept.

End to end through the real `dialogue` command on the console (database compared before and
after, table by table), and the rules in the pure engine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.content.check import load_library
from bot.core import engine
from bot.core.actions import AskChoice, SendPrivate, SendText
from bot.core.context import Actor, Context
from bot.core.desk import Desk
from bot.core.effects import ChartRequested, RehearsalChanged
from bot.core.events import CommandIssued, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status
from bot.texts import Catalogue
from storage.db import make_engine
from storage.tables import metadata
from tests.support.cli import ROOT, dialogue, write_config

KEY = {"DIALOGUE_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
NOW = datetime(2027, 2, 1, 18, 0, tzinfo=UTC)
FRAN = PersonRef("console", "fran")
GROUP = GroupRef("console", "console")

SETUP = [
    "facilitator: /start health-data-intro",
    "alice: /agree participate quote",
    "facilitator: /next",
    "facilitator: /next",
    "alice: ALICE-REAL a real reply before the rehearsal",
    "facilitator: /goto research-comfort",
    "alice: /vote 2",
    "facilitator: /end",
    "facilitator> It went fine.",
]
REHEARSAL = [
    "facilitator> /rehearse health-data-intro",
    "facilitator> /next",
    "facilitator> /goto research-comfort",
    "facilitator> /vote 2",
    "facilitator> REHEARSAL-WORDS nothing of this may be kept",
    "facilitator> /show",
    "facilitator> /status",
    "facilitator> /goto feedback",
    "facilitator> /next",
    "facilitator> /next",
    "alice> /rehearse health-data-intro",
]


def play(config: Path, transcript: Path) -> str:
    result = dialogue(config, "run", "--transcript", str(transcript), env=KEY)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def every_table(url: str) -> dict[str, list[tuple[Any, ...]]]:
    database = make_engine(url)
    try:
        async with database.connect() as conn:
            found = {}
            for name, table in metadata.tables.items():
                count = (await conn.execute(select(func.count()).select_from(table))).scalar()
                rows = (await conn.execute(select(table))).all()
                assert count == len(rows)
                found[name] = sorted(tuple(map(repr, row)) for row in rows)
            return found
    finally:
        await database.dispose()


async def test_a_rehearsal_shows_what_the_group_would_see_and_leaves_nothing_in_the_database(
    database_url: str, tmp_path: Path
) -> None:
    images = tmp_path / "images"
    more = f'[facilitation]\nconsole_images = "{images}"\n'
    config = write_config(tmp_path / "config.toml", database_url, more)
    setup, rehearsal = tmp_path / "setup.txt", tmp_path / "rehearsal.txt"
    setup.write_text("\n".join(SETUP) + "\n", encoding="utf-8")
    rehearsal.write_text("\n".join(REHEARSAL) + "\n", encoding="utf-8")
    play(config, setup)
    before = await every_table(database_url)
    assert before["responses"] and before["session_reflections"]  # the comparison can see rows

    out = play(config, rehearsal)

    assert await every_table(database_url) == before
    texts = Catalogue.load()
    mine = [line for line in out.splitlines() if line.startswith("[private to facilitator] ")]
    # What the group would see (the join message and the step itself), the notes, timings.
    assert any(texts.get("en", "session.join") in line for line in mine)
    assert any("Step 7 of 17 (research-comfort, choice" in line for line in mine)
    assert any(line.endswith("6. Not sure") for line in mine)
    assert any("Rehearsal timing: step 7 of 17, planned 2 min" in line for line in mine)
    assert any(texts.get("en", "rehearse.not_recorded") in line for line in mine)
    assert [p.suffix for p in images.iterdir()] == [".png"]  # the chart, written for /show
    assert any("Rehearsal of" in line and "finished" in line for line in mine)
    assert "[group console]" not in out.split("facilitator> /rehearse", 1)[1]
    assert f"[private to alice] {texts.get('en', 'rehearse.refused')}" in out


@pytest.fixture
def ctx() -> Context:
    return Context(load_library(ROOT), Catalogue.load(), NOW, "default")


def facilitator(**desk: Any) -> Actor:
    return Actor(FRAN, None, desk=Desk(facilitates=True, **desk))


def private(name: str, *args: str) -> CommandIssued:
    return CommandIssued(FRAN, None, name, args, NOW, "m1")


def test_rehearsing_any_script_stores_nothing_and_keeps_the_rehearsal_in_memory(
    ctx: Context,
) -> None:
    # The open cycle offers no script at all: a rehearsal may still run any.
    closed = replace(ctx, offered=frozenset())
    result = engine.step(None, private("rehearse", "health-data-intro"), facilitator(), closed)
    assert (result.state, result.captures, result.remember) == (None, (), False)
    (change,) = result.effects
    assert isinstance(change, RehearsalChanged) and change.person == FRAN
    rehearsing = change.rehearsal
    assert rehearsing is not None and rehearsing.group == GroupRef("rehearsal", "health-data-intro")
    shown = [a for a in result.actions if isinstance(a, SendText)]
    assert shown and all(a.person == FRAN for a in shown)

    later = replace(ctx, now=NOW + timedelta(minutes=3))
    moved = engine.step(
        None, private("goto", "research-comfort"), facilitator(rehearsal=rehearsing), later
    )
    assert moved.captures == () and moved.remember is False
    (question,) = [a for a in moved.actions if isinstance(a, AskChoice)]
    assert question.person == FRAN and question.step_id == "research-comfort"
    (step,) = [e for e in moved.effects if isinstance(e, RehearsalChanged)]
    assert step.rehearsal is not None and step.rehearsal.step_index == 6

    shown_chart = engine.step(
        None, private("show"), facilitator(rehearsal=step.rehearsal), later
    ).effects
    assert shown_chart == (
        ChartRequested(
            step.rehearsal.group, None, "health-data-intro", ("research-comfort",), FRAN
        ),
    )
    words = MessagePosted(FRAN, None, "m2", "nothing to keep", NOW)
    quiet = engine.step(None, words, facilitator(rehearsal=step.rehearsal), later)
    assert quiet.captures == () and quiet.remember is False


@pytest.mark.parametrize(
    ("actor", "event", "key"),
    [
        pytest.param(Actor(FRAN, None), private("rehearse", "x"), "rehearse.refused", id="no-role"),
        pytest.param(
            facilitator(),
            CommandIssued(FRAN, GROUP, "rehearse", ("health-data-intro",), NOW),
            "rehearse.private",
            id="in-a-group",
        ),
        pytest.param(facilitator(), private("rehearse"), "rehearse.usage", id="no-script"),
        pytest.param(facilitator(), private("rehearse", "nope"), "rehearse.unknown", id="unknown"),
    ],
)
def test_a_rehearsal_that_cannot_start_says_why_and_changes_nothing(
    actor: Actor, event: CommandIssued, key: str, ctx: Context
) -> None:
    state = SessionState(GROUP, Status.RUNNING, "s1", "default", "health-data-intro", "1", 3)
    result = engine.step(state, event, actor, ctx)
    assert (result.state, result.captures, result.effects) == (state, (), ())
    (reply,) = result.actions
    scripts = ", ".join(sorted(ctx.library.scripts))
    assert reply == SendPrivate(FRAN, ctx.t(key, script="nope", scripts=scripts))
