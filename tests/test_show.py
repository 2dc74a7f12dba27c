"""Showing a group what it said: /show draws a chart, small counts hidden, numbers in text.

On the console (the picture is written to a file, its path and description printed) through
the real `dialogue` command, and on Telegram (sendPhoto) against the fake Bot API, where a
resident also follows a cycle's invitation link into the self-paced dialogue.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from bot.content.check import load_library
from bot.content.models import Script, Step
from bot.core.records import SessionHeard
from bot.core.showing import Say, chart_words
from bot.service.show import Shown, draw, read, session_disclosure
from bot.texts import Catalogue
from exporters.disclosure import Disclosure
from tests.support.cli import ROOT, dialogue, write_config
from tests.support.disclosure import hide_only_small_counts
from tests.support.telegram import (
    Group,
    act,
    button_with,
    consent,
    last_with_buttons,
    running_bot,
    settle,
    telegram_settings,
    texts_in,
)
from tests.support.telegram_fake import FakeBotApi

TEXTS = Catalogue.load()
PNG = b"\x89PNG\r\n\x1a\n"
HEALTH: Script = load_library(ROOT).scripts["health-data-intro"]
COMFORT = HEALTH.ballot("research-comfort")
VOTES = {"ann": 5, "ben": 5, "cat": 5, "dev": 5, "eve": 2, "fay": 2, "gus": 2, "hal": 3}
VOTES |= {"ivy": 3, "joe": 1}


def say(key: str, **params: object) -> str:
    return TEXTS.get("en", key, **params)


def session(answers: list[tuple[int, ...]]) -> SessionHeard:
    assert COMFORT is not None
    return SessionHeard(len(answers), {}, {COMFORT.id: answers})


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt: str
    text: str


def chart(step: Step, disclosure: Disclosure, say: Say) -> Chart:
    """A chart as /show sends it: the service's picture, the core's words."""
    shown = read(disclosure, step)
    words = chart_words(step, shown, disclosure.threshold, say)
    return Chart(draw(step, shown, disclosure.threshold, say), words.alt, words.text)


def shown_counts(answers: list[tuple[int, ...]], threshold: int) -> Shown:
    assert COMFORT is not None
    return read(session_disclosure(HEALTH, session(answers), threshold), COMFORT)


def test_counts_under_the_threshold_are_hidden_with_any_that_would_give_one_away() -> None:
    assert COMFORT is not None
    answers = [(n,) for n in VOTES.values()]
    # 1 and 2 are under 3; the people who answered (10) cannot reveal them: two are hidden.
    found = shown_counts(answers, 3)
    assert (found.counts, found.people) == ([None, 3, None, 0, 4, 0], 10)
    assert found.small == [True, False, True, False, False, False]
    # One small count alone would be given away by the total: the next smallest goes too,
    # and that 3 is said to be hidden, never "fewer than 3".
    found = shown_counts([(5,), (5,), (5,), (1,)], 3)
    assert (found.counts, found.people) == ([None, 0, 0, 0, None, 0], 4)
    assert found.small == [True, False, False, False, False, False]
    few = session_disclosure(HEALTH, session([(5,), (5,), (5,), (1,)]), 3)
    hidden = chart(COMFORT, few, say).text
    assert say("show.line_withheld", option="It depends on who uses it and why") in hidden
    drawn = chart(COMFORT, session_disclosure(HEALTH, session(answers), 3), say)
    assert drawn.png.startswith(PNG) and Image.open(io.BytesIO(drawn.png)).size[0] >= 600
    assert say("show.line_hidden", option="Very comfortable", threshold=3) in drawn.text
    assert say("show.line", option="It depends on who uses it and why", count=4) in drawn.alt


def test_show_on_the_console_writes_the_chart_to_a_file_and_says_the_numbers(
    tmp_path: Path,
) -> None:
    images = tmp_path / "images"
    more = f'[facilitation]\nconsole_images = "{images}"\nchart_threshold = 3\n'
    config = write_config(tmp_path / "config.toml", f"sqlite+aiosqlite:///{tmp_path}/d.db", more)
    lines = ["facilitator: /start health-data-intro", "facilitator: /goto research-comfort"]
    for name, option in VOTES.items():
        lines += [f"{name}: /agree participate", f"{name}: /vote {option}"]
    lines += ["facilitator: /next", "facilitator: /show"]
    transcript = tmp_path / "show.txt"
    transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = dialogue(config, "run", "--transcript", str(transcript))
    assert result.returncode == 0, result.stderr
    shown = result.stdout.split("facilitator: /show\n", 1)[1]
    found = re.search(r"\[group console\] Picture \(saved to (.+?\.png)\): (.+)", shown)
    assert found is not None, shown
    picture = Path(found.group(1))
    assert picture.parent == images and picture.read_bytes().startswith(PNG)
    assert say("show.line_hidden", option="Very comfortable", threshold=3) in found.group(2)
    said = [line.removeprefix("[group console] ") for line in shown.splitlines()]
    assert say("show.line", option="It depends on who uses it and why", count=4) in said
    assert say("show.line", option="Fairly comfortable", count=3) in said
    assert say("show.line_hidden", option="Not very comfortable", threshold=3) in said
    assert say("show.people", people=10) in said


async def test_show_on_telegram_sends_the_chart_as_a_photo_with_a_small_count_hidden(
    fake: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    g.sam.start_private()
    g.carol.start_private()
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    settings = telegram_settings(fake, url, staff=[g.sam.id])
    settings.facilitation.chart_threshold = 2
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, "/start health-data-intro")
        for person in (g.alice, g.fran, g.sam, g.carol):
            await consent(fake, person, g.chat)
        await act(fake, g.fran, g.chat, "/goto research-comfort")
        for person, option in ((g.alice, 5), (g.fran, 5), (g.sam, 2), (g.carol, 3)):
            await act(fake, person, g.chat, f"/vote {option}")
        await act(fake, g.fran, g.chat, "/show")
    (photo,) = [c for c in fake.calls_to("sendPhoto") if c.params["chat_id"] == g.chat.id]
    upload = photo.params["photo"]
    assert upload.data.startswith(PNG)
    caption = photo.params["caption"]
    assert say("show.line_hidden", option="Fairly comfortable", threshold=2) in caption
    assert say("show.line", option="It depends on who uses it and why", count=2) in caption
    numbers = texts_in(fake, g.chat)[-1]
    assert numbers.startswith(say("show.title", text=COMFORT.text.strip()))
    assert say("show.line_hidden", option="Not very comfortable", threshold=2) in numbers
    assert say("show.people", people=4) in numbers


async def test_a_telegram_invitation_link_opens_the_self_paced_dialogue_consent_first(
    fake: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rosa = fake.user("Rosa", username="rosa")
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    async with running_bot(telegram_settings(fake, url), fake, monkeypatch):
        rosa.start_private("ddefault")  # what `dialogue invite --cycle default` links to
        await settle(fake)
        offer = last_with_buttons(fake, rosa)
        assert "Taking part" in offer["text"]
        rosa.press(offer, button_with(offer, lambda b: "all" in b["text"])["callback_data"])
        await settle(fake)
        step = last_with_buttons(fake, rosa)
        assert "Step 1 of 16" in step["text"]
        rosa.press(step, button_with(step, lambda b: b["text"] == "Next")["callback_data"])
        await settle(fake)
        card = last_with_buttons(fake, rosa)
        rosa.press(card, button_with(card, lambda b: b["text"] == "Tell me more")["callback_data"])
        await settle(fake)
        rosa.press(card, button_with(card, lambda b: b["text"] == "Next")["callback_data"])
        await settle(fake)
        rosa.say_private("ROSA-TELEGRAM first thoughts")
        await settle(fake)
    said = texts_in(fake, rosa)
    assert any(t.startswith("What is health and care data?") for t in said)  # the full card
    assert said[-1] == say("solo.noted")


async def test_show_posts_no_chart_when_the_audit_fails_and_logs_why_for_staff(
    fake: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    g = Group(fake)
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    settings = telegram_settings(fake, url, staff=[g.sam.id])
    settings.facilitation.chart_threshold = 3
    hide_only_small_counts(monkeypatch)
    caplog.set_level(logging.WARNING, logger="bot.service.desks")
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, "/start health-data-intro")
        for person in (g.alice, g.fran, g.sam, g.carol):
            await consent(fake, person, g.chat)
        await act(fake, g.fran, g.chat, "/goto research-comfort")
        # 4 answered, 1 of them "Very comfortable": shown beside the other three counts, it
        # would be exact.
        for person, option in ((g.alice, 5), (g.fran, 5), (g.sam, 5), (g.carol, 1)):
            await act(fake, person, g.chat, f"/vote {option}")
        await act(fake, g.fran, g.chat, "/show")
    assert not fake.calls_to("sendPhoto")
    assert texts_in(fake, g.chat)[-1] == say("show.withheld")
    (reason,) = [r.getMessage() for r in caplog.records if "not posted" in r.getMessage()]
    assert "can be worked out to lie between 1 and 1" in reason
