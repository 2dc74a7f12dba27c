"""Every word a person is shown, in every flow of every shipped script, is written for people.

The real app (service, scheduler, database) on a fake clock with a recording platform walks
every step of every shipped script twice: as a group session (consent, replies, votes, the live
tally, /status, /show, the summary, /mydata, /forget, the profile questions, /withdraw) and as
a resident taking part alone from the invitation to the end. Everything sent is then read as
the person it went to would read it, and the test fails on a placeholder left unfilled, a
script's step id, an option number in place of its words, a pseudonym or a platform id, a
count in the wrong plural form ("1 replies", "2 reply"), or words for a group said to a
resident alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content.models import Script
from bot.core.actions import AskChoice, SendImage, SendPrivate, SendText
from bot.core.events import ButtonPressed, CommandIssued, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.render import choice_text
from bot.settings import Settings
from tests.support.cli import ROOT
from tests.support.clockwork import Bot, FakeClock, content_root, settings_for, start_bot

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
CYCLE = "2027-c1"
# Ids that look like a platform's, so that showing one to a person is caught.
CHAT = GroupRef("console", "chat-7781")
FAC = PersonRef("console", "fac-1001")
ALICE, BOB, CAROL, DAN = (PersonRef("console", f"user-200{n}") for n in (1, 2, 3, 4))
ROSA = PersonRef("console", "user-3001")
PEOPLE = (FAC, ALICE, BOB, CAROL, DAN, ROSA)

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.]*\}")
NOUNS = {
    "reply": "replies",
    "answer": "answers",
    "person": "people",
    "step": "steps",
    "question": "questions",
    "minute": "minutes",
    "hour": "hours",
    "day": "days",
    "second": "seconds",
    "session": "sessions",
    "group": "groups",
}
ONE_WITH_PLURAL = re.compile(r"(?<![\d.,])\b1 (?:short )?(" + "|".join(NOUNS.values()) + r")\b")
MANY_WITH_SINGULAR = re.compile(
    r"(?<![\d.,/])\b(?:0|[2-9]|\d{2,}) (?:short )?(" + "|".join(NOUNS) + r")\b(?! \d)"
)
BRACKETED_ID = re.compile(r"\[[a-z0-9]+(?:[-.][a-z0-9]+)+\]")
NUMBERS_FOR_ANSWERS = re.compile(r"(?:\]|:)\s*\d+(?:\s*,\s*\d+)+\s*$")
HEX = re.compile(r"\b[0-9a-f]{16,}\b")
# Said to a group, never to one resident taking part alone.
GROUP_WORDS = ("Thank you all", "this group", "your facilitator", "group's sessions")


@dataclass
class Seen:
    """One thing the bot said, as its reader sees it."""

    reader: str  # "group", or the user id of the person it went to
    text: str


def seen(bot: Bot) -> list[Seen]:
    """Everything sent so far, in words: texts, questions with their options, button labels."""
    texts = bot.app.texts
    found: list[Seen] = []
    for action in bot.platform.actions:
        if isinstance(action, SendPrivate):
            labels = "\n".join(b.label for b in action.buttons)
            found.append(Seen(action.person.user_id, f"{action.text}\n{labels}".strip()))
        elif isinstance(action, SendText):
            reader = action.person.user_id if action.person else "group"
            labels = "\n".join(b.label for b in action.buttons)
            found.append(Seen(reader, f"{action.text}\n{labels}".strip()))
        elif isinstance(action, AskChoice):
            reader = action.person.user_id if action.person else "group"
            found.append(Seen(reader, choice_text(action, texts, "en")))
        elif isinstance(action, SendImage):
            found.append(Seen(action.person.user_id if action.person else "group", action.alt))
    return found


def step_ids(scripts: list[Script]) -> set[str]:
    """Every step and feedback-question id that reads as an id (slugs with a dash or dot)."""
    ids = {b.id for s in scripts for step in s.steps for b in (step, *step.ballots())}
    return {i for i in ids if "-" in i or "." in i}


def faults(said: Seen, ids: set[str], facilitator: bool) -> list[str]:
    """What is wrong with one message for the person who reads it."""
    text, found = said.text, []
    if m := PLACEHOLDER.search(text):
        found.append(f"unfilled placeholder {m.group()}")
    for m in ONE_WITH_PLURAL.finditer(text):
        found.append(f"singular count with a plural noun: {m.group()!r}")
    for m in MANY_WITH_SINGULAR.finditer(text):
        found.append(f"plural count with a singular noun: {m.group()!r}")
    for person in PEOPLE:
        if person.user_id in text:
            found.append(f"platform id {person.user_id} shown")
    if CHAT.chat_id in text or CYCLE in text:
        found.append("a chat's or a cycle's id shown")
    if m := HEX.search(text):
        found.append(f"pseudonym or hash shown: {m.group()}")
    for line in text.splitlines():
        if BRACKETED_ID.search(line) or NUMBERS_FOR_ANSWERS.search(line):
            found.append(f"an id or option numbers for answers: {line!r}")
    # A facilitator types step ids (/goto STEP): their private notes may name them.
    if not facilitator:
        shown = [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]
        found += [f"step id {i} shown" for i in shown]
    if said.reader == ROSA.user_id:
        found += [f"group words to a resident alone: {w!r}" for w in GROUP_WORDS if w in text]
    return found


def assert_worded_for_people(bot: Bot) -> None:
    ids = step_ids(list(bot.app.library.scripts.values()))
    problems = [
        f"to {s.reader}: {fault}\n    {s.text[:300]!r}"
        for s in seen(bot)
        for fault in faults(s, ids, facilitator=s.reader == FAC.user_id)
    ]
    assert not problems, "\n".join(problems)


def words_settings(database_url: str, tmp_path: Path) -> Settings:
    settings = settings_for(database_url, content_root(tmp_path))
    settings.console.group = CHAT.chat_id
    settings.console.facilitators = [FAC.user_id]
    settings.direct.reminder_hours = 24
    return settings


class Chat:
    """People typing and pressing in the group or privately, a moment apart."""

    def __init__(self, bot: Bot, clock: FakeClock) -> None:
        self.bot, self.clock, self.sent = bot, clock, 0

    async def say(self, who: PersonRef, text: str, private: bool = False) -> None:
        self.clock.now += timedelta(seconds=30)
        self.sent += 1
        where = None if private else CHAT
        mid = f"{who.user_id}-{self.sent}"
        if text.startswith("/"):
            name, *args = text[1:].split()
            event: CommandIssued | MessagePosted = CommandIssued(
                who, where, name, tuple(args), self.clock.now, mid
            )
        else:
            event = MessagePosted(who, where, mid, text, self.clock.now)
        await self.bot.app.service.handle(event)

    async def press(self, who: PersonRef, payload: str) -> None:
        self.clock.now += timedelta(seconds=30)
        self.sent += 1
        pressed = ButtonPressed(who, None, payload, self.clock.now, press_id=f"p{self.sent}")
        await self.bot.app.service.handle(pressed)

    def buttons(self, who: PersonRef) -> list[str]:
        """The buttons of what the person was last sent: since the latest step, if one."""
        sent = [a for a in self.bot.platform.actions if isinstance(a, SendPrivate)]
        theirs = [a for a in sent if a.person == who]
        starts = [n for n, a in enumerate(theirs) if "Step " in a.text] or [len(theirs) - 1]
        latest = theirs[max(starts[-1], len(theirs) - 4) :]
        return [b.payload for a in latest for b in a.buttons]


async def opened(settings: Settings, clock: FakeClock, scripts: list[str]) -> Bot:
    bot = await start_bot(settings, clock)
    closes = T0 + timedelta(days=60)
    await bot.ops.create(CYCLE, "Data", "who uses it", T0, closes, scripts, T0)
    await bot.ops.open(CYCLE, T0)
    await bot.scheduler.reconcile()
    return bot


async def answer_profile(chat: Chat, who: PersonRef) -> None:
    """Answer the profile questions by their buttons, as offered."""
    await chat.press(who, "profile start")
    for _ in range(20):
        offered = [p for p in chat.buttons(who) if p.startswith("profile answer")]
        if not offered:
            return
        await chat.press(who, offered[0])


async def group_session(chat: Chat, script: Script) -> None:
    """A whole group session of ``script``: every step, with replies and votes at each."""
    await chat.say(FAC, f"/start {script.id}")
    await chat.say(ALICE, "/agree participate quote profile")
    await chat.say(BOB, "/agree participate")
    await chat.say(CAROL, "I only read along")  # never agreed: invited, nothing kept
    await answer_profile(chat, ALICE)
    dan = "quiet"  # Dan answers one question, then says one thing: counts of one
    for number, step in enumerate(script.steps, start=1):
        if step.kind == "choice" and dan == "quiet":
            dan = "answered"
            await chat.say(DAN, "/agree participate profile")
            await chat.say(DAN, "/vote 1")
            await chat.say(DAN, "/profile start", private=True)
            await chat.press(DAN, "profile skip age")
        if step.kind == "prompt" and dan == "answered":
            dan = "done"
            await chat.say(DAN, "Dan's one reply")
        if step.kind == "prompt":
            await chat.say(ALICE, f"Alice's thoughts on step {number}")
            await chat.say(BOB, f"Bob's thoughts on step {number}")
        for ballot in step.ballots():
            question = f"{ballot.id.partition('.')[2]} " if step.kind == "feedback" else ""
            await chat.say(ALICE, f"/vote {question}1")  # one person so far, then two
            await chat.say(BOB, f"/vote {question}{'1,2' if ballot.multiple else '2'}")
            await chat.say(FAC, f"/show {ballot.id.partition('.')[0]}")
        await chat.say(FAC, "/status")
        if number < len(script.steps):
            await chat.say(FAC, "/next")
    await chat.say(FAC, "/end")
    await chat.press(FAC, "summary post")
    for who in (ALICE, BOB):
        await chat.say(who, "/mydata", private=True)
        await chat.say(who, "/profile", private=True)
    await chat.say(ALICE, "/forget 1", private=True)
    await chat.say(ALICE, "/forget 99", private=True)
    await chat.say(ALICE, "/help", private=True)
    await chat.say(ALICE, "/withdraw", private=True)
    await chat.press(ALICE, "withdraw confirm")
    await chat.say(BOB, "/withdraw confirm", private=True)
    await chat.say(CAROL, "/withdraw confirm", private=True)
    await chat.say(DAN, "/mydata", private=True)
    await chat.say(DAN, "/forget 2", private=True)
    await chat.say(DAN, "/withdraw confirm", private=True)


async def alone(chat: Chat, script: Script) -> None:
    """A resident alone, from the invitation to the end, stopping once on the way."""
    await chat.press(ROSA, f"join {CYCLE}")
    await chat.say(ROSA, "/help", private=True)
    await chat.press(ROSA, "join agree participate quote profile followup")
    await answer_profile(chat, ROSA)
    await chat.press(ROSA, "continue")
    stopped, voted = False, set[str]()
    for _ in range(4 * len(script.steps) + 20):
        offered = chat.buttons(ROSA)
        ballots = [p for p in offered if p.startswith("ballot ") and p.split()[1] not in voted]
        if ballots:
            voted.add(ballots[0].split()[1])
            await chat.press(ROSA, ballots[0])
            continue
        if "more" in offered:
            await chat.press(ROSA, "more")
        if "next" not in offered and "skip" not in offered:
            break
        await chat.say(ROSA, "What I think about this", private=True)
        if not stopped and "stop" in offered:
            stopped = True
            await chat.press(ROSA, "stop")
            await chat.press(ROSA, "remind no")
            await chat.say(ROSA, "/mydata", private=True)
            await chat.press(ROSA, "continue")
            continue
        await chat.press(ROSA, "next" if "next" in chat.buttons(ROSA) else "skip")
    await chat.say(ROSA, "/join", private=True)
    await chat.say(ROSA, "/mydata", private=True)
    await chat.say(ROSA, "/withdraw", private=True)
    await chat.press(ROSA, "withdraw confirm")


async def test_every_flow_of_every_shipped_script_is_worded_for_the_people_who_read_it(
    database_url: str, tmp_path: Path
) -> None:
    settings = words_settings(database_url, tmp_path)
    clock = FakeClock(T0)
    shipped = sorted(p.stem for p in (ROOT / "prompts").glob("*.toml") if "." not in p.stem)
    bot = await opened(settings, clock, shipped)
    try:
        chat = Chat(bot, clock)
        for script_id in shipped:
            script = bot.app.library.scripts[script_id]
            await group_session(chat, script)
            if any(step.self_paced for step in script.steps):
                await alone(chat, script)
        assert_worded_for_people(bot)
        said = seen(bot)
        # The walk reached what it means to check.
        heard_by_rosa = "\n".join(s.text for s in said if s.reader == ROSA.user_id)
        assert "Step 1 of" in heard_by_rosa and "Done. We have withdrawn" in heard_by_rosa
        # Her /help names what she can do alone (carry on), not the group's commands.
        assert "/continue" in heard_by_rosa and "/agree to agree" not in heard_by_rosa
        group = "\n".join(s.text for s in said if s.reader == "group")
        assert "What we heard today" in group
        told = "\n".join(s.text for s in said if s.reader in (ALICE.user_id, FAC.user_id))
        assert "1 person so far" in told and "2 people so far" in told
        assert "Your answers (" in told and "Done. We have withdrawn your consent" in told
        # A withdrawal says what it erased, profile answers too, each count in its own form.
        to_dan = [s.text for s in said if s.reader == DAN.user_id]
        assert "- 1 reply\n- 1 answer\n- 1 answer to the questions about you" in to_dan[-1]
        assert "you have 1 reply stored" in to_dan[-2]
    finally:
        await bot.close()


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("first-thoughts: 2 replies", "step id"),
        ("We have erased 1 replies and 1 answers", "singular count"),
        ("Live answers (1 people so far)", "singular count"),
        ("You have 2 reply", "plural count"),
        ("- [conditions] 1, 3", "option numbers"),
        ("Hello {name}", "placeholder"),
        ("Consent for chat-7781", "id shown"),
        ("code 7f3a9c0d11e2b4a5c6d7", "pseudonym"),
    ],
)
def test_the_checker_catches_each_fault_it_names(text: str, fault: str) -> None:
    found = faults(Seen("user-2001", text), {"first-thoughts"}, facilitator=False)
    assert any(fault in f for f in found), found


def test_the_checker_hears_group_words_only_when_said_to_a_resident_alone() -> None:
    assert faults(Seen(ROSA.user_id, "Thank you all"), set(), facilitator=False)
    assert not faults(Seen("group", "Thank you all"), set(), facilitator=False)
