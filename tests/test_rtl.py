"""Right to left: Arabic and Urdu shown the right way round on every platform, never stored so.

Telegram's HTML is read through the fake Bot API, Discord's messages through simcord and the
console's lines from the real `dialogue` command; the report is checked in a real browser in
tests/test_export_report_browser.py. The texts are those of the Arabic fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.bidi import LRI, LRM, PDI, RLI, RLM, direction, for_display
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.render import MARKDOWN_LEAD, shown_html, shown_markdown
from exporters.redact import Redactor
from tests.support import arabic
from tests.support.cli import dialogue, write_config
from tests.support.discord_helpers import PSEUDONYM_KEY, discord_world, replies, text_of
from tests.support.export_text import csv_rows, export_text
from tests.support.telegram import (
    Group,
    act,
    consent,
    last_with_buttons,
    running_bot,
    telegram_settings,
    texts_in,
)
from tests.support.telegram_fake import FakeBotApi, parse_html


def test_a_line_reads_in_the_direction_of_most_of_its_words() -> None:
    assert direction(arabic.PLAIN) == "rtl"
    assert direction(arabic.NAME_NUMBER) == "rtl"  # "Smith" does not turn it around
    assert direction(arabic.URL) == "rtl"  # a long link is one word
    assert direction(arabic.URDU_MIXED) == "rtl"
    assert direction(arabic.ENGLISH_QUOTE) == "ltr"  # an English sentence quoting Arabic
    # Most words, not the first: "GP" does not make an Arabic sentence English, nor one
    # Arabic word an English sentence Arabic.
    assert direction(f"GP {arabic.PLAIN}") == "rtl"
    assert direction("مرحبا said Amira to everyone", "ar") == "ltr"
    assert direction("12, 13") == "ltr" and direction("12, 13", "ur") == "rtl"


def test_runs_of_the_other_direction_are_isolated_and_rtl_lines_start_with_rlm() -> None:
    assert for_display(arabic.NAME_NUMBER) == (
        f"{RLM}قال الدكتور {LRI}Smith{PDI} إن {LRI}3{PDI} من كل {LRI}10{PDI} مرضى لا يعرفون ذلك."
    )
    # The number stays one left-to-right run; the sentence's full stop stays outside.
    assert f"{LRI}943 476 5919{PDI} ولا" in for_display(arabic.NHS)
    assert f"{LRI}https://www.nhs.uk/your-nhs-data-matters/{PDI} قبل" in for_display(arabic.URL)
    assert for_display(arabic.ENGLISH_QUOTE, "en") == (
        f'My grandmother says "{RLI}الصحة تاج على رؤوس الأصحاء{PDI}" and she is right.'
    )
    # An English line that starts with Arabic gets LRM, so a client guessing from the first
    # letter guesses left to right.
    assert for_display("مرحبا said Amira and everyone else", "en").startswith(
        f"{LRM}{RLI}مرحبا{PDI}"
    )
    # A command, a phone number with its sign, a bracketed word: each whole, in order.
    assert f"{LRI}/vote 2{PDI}" in for_display("اكتب /vote 2 للتصويت")
    assert f"{LRI}+44 20 7946 0958{PDI}" in for_display("اتصل على +44 20 7946 0958 من فضلك")
    assert f"{LRI}1. [thoughts]{PDI}" in for_display("1. [thoughts] " + arabic.PLAIN)
    # A vowel mark over the last letter of a run stays in it.
    assert for_display("Your answer is recorded: موافق تماماً.", "en").endswith(
        f"{RLI}موافق تماماً{PDI}."
    )


# Alice's English reply with an Arabic proverb, as /mydata shows it after the Arabic question.
QUOTED_IN_ARABIC_LINE = (
    f'{LRI}My grandmother says{PDI} "الصحة تاج على رؤوس الأصحاء" {LRI}and she is right{PDI}.'
)


def test_numbering_and_bullets_of_an_rtl_message_keep_to_its_lines() -> None:
    text = "\n".join(["هل توافق؟", *(f"{n}. {o}" for n, o in enumerate(arabic.OPTIONS, 1))])
    lines = for_display(text, "en").split("\n")
    assert all(line.startswith(RLM) for line in lines)
    assert lines[1] == f"{RLM}{LRI}1{PDI}. {arabic.OPTIONS[0]}"
    # In Markdown (Discord's), the mark goes after the item's marker: still a list.
    listed = for_display(f"1. {arabic.OPTIONS[0]}\n- {arabic.PLAIN}", "en", lead=MARKDOWN_LEAD)
    assert listed.split("\n") == [f"1. {RLM}{arabic.OPTIONS[0]}", f"- {RLM}{arabic.PLAIN}"]


def test_html_tags_and_entities_are_never_cut_or_marked_inside() -> None:
    html = '<b>عنوان</b> &amp; <a href="https://example.org/?a=1&amp;b=2">Example</a> 5 &lt; 6'
    shown = shown_html(html, "ar")
    assert shown == (
        f'{RLM}<b>عنوان</b> &amp; <a href="https://example.org/?a=1&amp;b=2">{LRI}Example</a> 5'
        f" &lt; 6{PDI}"
    )
    # Telegram reads it as the same text, marked as the plain text would be, the link whole.
    plain, entities = parse_html(shown)
    assert plain == for_display("عنوان & Example 5 < 6", "ar")
    assert [e["url"] for e in entities if e["type"] == "text_link"] == [
        "https://example.org/?a=1&b=2"
    ]


@given(st.text(alphabet=st.sampled_from("ab 1.-/()[]<>&#:%ـمرحبا\u064b\u200f\u202e\u2066\u2069\n")))
def test_marking_twice_is_marking_once_and_only_marks_are_added(text: str) -> None:
    once = for_display(text, "ar")
    assert for_display(once, "ar") == once
    controls = arabic.MARKS | set("\u202a\u202b\u202c\u202d\u202e")
    assert [c for c in once if c not in controls] == [c for c in text if c not in controls]


def test_someones_unclosed_override_cannot_turn_the_rest_of_a_line_around() -> None:
    shown = for_display("Amira: \u202eهذا Hello. Thank you", "en")
    assert "\u202e" not in shown and shown.endswith("Thank you")


def test_english_ascii_text_comes_back_untouched() -> None:
    text = "Welcome!\n1. Very comfortable\n- Be kind."
    assert for_display(text, "en") is text
    assert shown_markdown(text, "en") is text
    curly = "There is no step “nowhere” — try /goto"
    assert for_display(curly, "en") == curly


def test_marks_break_redaction_so_only_displays_may_carry_them() -> None:
    redact = Redactor()
    assert redact(arabic.NHS)[0] == "رقمي في الخدمة الصحية هو [nhs-number] ولا أريد مشاركته."
    assert redact(arabic.URL)[0] == "قرأت عن ذلك في [url] قبل أسبوع."
    # A mark inside the number (as a careless display might put) hides it from redaction:
    # this is why stored text, which redaction reads, must never hold one.
    assert redact(arabic.NHS.replace("943 476", f"943{PDI} 476"))[1] == 0


LINES = [
    f"facilitator: /start {arabic.SCRIPT}",
    "alice: /consent",
    "alice> /agree participate quote",
    "facilitator: /next",
    "alice: /vote 1",
    "facilitator: /next",
    *(f"alice: {reply}" for reply in arabic.REPLIES),
    "alice> /mydata",
]


def shown_lines(out: str) -> list[str]:
    """What the console printed for people (input lines echoed are left out)."""
    return [line for line in out.splitlines() if line.startswith("[")]


def test_the_console_shows_arabic_marked_and_stores_and_exports_it_unmarked(
    database_url: str, tmp_path: Path
) -> None:
    content = arabic.arabic_content(tmp_path / "content")
    config = write_config(tmp_path / "config.toml", database_url, content=content)
    env = {"DIALOGUE_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
    transcript = tmp_path / "input.txt"
    transcript.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    run = dialogue(config, "run", "--transcript", str(transcript), env=env)
    assert run.returncode == 0, run.stderr
    shown = shown_lines(run.stdout)
    assert f"[group console] {RLM}أهلاً بكم في جلسة عن بيانات {LRI}NHS{PDI} الصحية." in shown
    assert f"[group console] {RLM}- اكتبوا {LRI}/mydata{PDI} لتروا ما نحفظه عنكم." in shown
    assert f"[group console] {RLM}{LRI}2{PDI}. {arabic.OPTIONS[1]}" in shown
    mine = [line for line in shown if line.startswith("[private to alice]")]
    assert any(f"{LRI}943 476 5919{PDI} ولا" in line for line in mine)
    # /mydata names the Arabic question, so Alice's English reply sits in a right-to-left
    # line: its English runs are isolated and the Arabic proverb she quoted stays whole.
    assert any(QUOTED_IN_ARABIC_LINE in line for line in mine)

    research, public = tmp_path / "research", tmp_path / "public"
    for folder, profile in ((research, "research"), (public, "public")):
        made = dialogue(config, "export", "--out", str(folder), "--profile", profile, env=env)
        assert made.returncode == 0, made.stderr
    # What is exported as data is what Alice wrote, without a mark, redacted as stored:
    # the NHS number and the link are caught in the Arabic around them.
    texts = sorted(row["text"] for row in csv_rows(research / "responses.csv"))
    assert texts == sorted(Redactor()(reply)[0] for reply in arabic.REPLIES)
    assert "رقمي في الخدمة الصحية هو [nhs-number] ولا أريد مشاركته." in texts
    for folder in (research, public):
        data = export_text(folder)
        assert not set(data) & arabic.MARKS
        assert "943 476 5919" not in data and "nhs.uk/your" not in data


async def test_telegram_gets_arabic_html_marked_per_line_and_stores_it_unmarked(
    fake: FakeBotApi, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = arabic.arabic_content(tmp_path / "content")
    g = Group(fake)
    settings = telegram_settings(fake, database_url, content_root=content, staff=[g.sam.id])
    async with running_bot(settings, fake, monkeypatch) as app:
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, f"/start {arabic.SCRIPT}")
        await consent(fake, g.alice, g.chat)
        await act(fake, g.fran, g.chat, "/next")  # the choice
        await act(fake, g.fran, g.chat, "/next")  # the prompt
        for reply in arabic.REPLIES:
            await act(fake, g.alice, g.chat, reply)
        await act(fake, g.alice, g.alice, "/mydata")
        stored = await app.repository.person_data(PersonRef("telegram", str(g.alice.id)))
    assert sorted(r.text for r in stored.responses) == sorted(arabic.REPLIES)  # no mark
    sent = [call.params["text"] for call in fake.calls_to("sendMessage")]
    # The HTML sent: each Arabic line starts with RLM, "NHS" and "/mydata" isolated in it.
    welcome = next(html for html in sent if "أهلاً" in html)
    assert f"{RLM}أهلاً بكم في جلسة عن بيانات {LRI}NHS{PDI} الصحية." in welcome.split("\n")
    assert f"{RLM}- اكتبوا {LRI}/mydata{PDI} لتروا ما نحفظه عنكم." in welcome.split("\n")
    # The choice: numbered lines, and buttons labelled the same way.
    choice = last_with_buttons(fake, g.chat)
    assert f"{RLM}{LRI}1{PDI}. {arabic.OPTIONS[0]}" in choice["text"].split("\n")
    labels = [row[0]["text"] for row in choice["reply_markup"]["inline_keyboard"]]
    assert labels == [f"{RLM}{LRI}{n}{PDI}. {o}" for n, o in enumerate(arabic.OPTIONS, 1)]
    # /mydata quotes Alice's replies, each in its direction, the numbers whole.
    mine = texts_in(fake, g.alice)[-1]
    assert f"{LRI}943 476 5919{PDI} ولا" in mine
    assert f"{LRI}https://www.nhs.uk/your-nhs-data-matters/{PDI} قبل" in mine
    assert QUOTED_IN_ARABIC_LINE in mine
    # Escaping still holds around the marks: the fake parsed every message Telegram would.
    assert all(parse_html(html) for html in sent)


async def test_discord_gets_arabic_markdown_marked_per_line_its_lists_still_lists(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    content = arabic.arabic_content(tmp_path / "content")
    async with discord_world(tmp_path, database_url, ("alice",), content=content) as world:
        channel = world.guild.create_text_channel("dialogue")
        group = GroupRef("discord", str(channel.id))
        await world.app.service.roles.register(group, datetime.now(UTC))
        role = world.guild.create_role("Facilitator")
        fac = world.guild.add_member(world.env.create_user("fac"), roles=[role])
        await fac.slash(channel, "dialogue start", script=arabic.SCRIPT)
        (thread,) = channel.threads
        alice = world.people["alice"]
        await alice.send(thread, "/agree participate quote")
        await fac.slash(thread, "dialogue next")  # the choice
        await fac.slash(thread, "dialogue next")  # the prompt
        for reply in arabic.REPLIES:
            await alice.send(thread, reply)
        mine = text_of(replies(await alice.slash(thread, "mydata")))
        shown = [m.content for m in thread.history()]
        stored = await world.app.repository.person_data(PersonRef("discord", str(alice.id)))
    assert sorted(r.text for r in stored.responses) == sorted(arabic.REPLIES)  # no mark
    welcome = next(text for text in shown if "أهلاً" in text).split("\n")
    assert f"{RLM}أهلاً بكم في جلسة عن بيانات {LRI}NHS{PDI} الصحية." in welcome
    # Markdown's list marker first, then the mark: Discord still shows a list.
    assert f"- {RLM}اكتبوا {LRI}/mydata{PDI} لتروا ما نحفظه عنكم." in welcome
    choice = next(text for text in shown if arabic.OPTIONS[0] in text).split("\n")
    assert f"1. {RLM}{arabic.OPTIONS[0]}" in choice
    assert f"{LRI}943 476 5919{PDI} ولا" in mine
    assert QUOTED_IN_ARABIC_LINE in mine
    assert world.env.errors == []
