"""Actions name the event they answer, and the engine, not an adapter, decides consent and topics.

An adapter performs a reply to a press or a command from the action alone (its ``answers``), so
it keeps nothing between an event and its answer: interleaved events of one person in two groups
each get their own answer, whatever order the service handles them in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest

from bot.core import engine
from bot.core.actions import Action, CheckAccess, OpenTopic, SendPrivate, SendText
from bot.core.answers import answering, origin_of
from bot.core.context import Actor, Context
from bot.core.events import ButtonPressed, CommandIssued, MessagePosted, TimerFired, VoteCast
from bot.core.ids import Origin
from bot.core.state import SessionState
from tests.support.capture import FRAN, LIBRARY, T0, TEXTS, command, group, person, running
from tests.support.recording import Recorder

G1, G2 = group("g1"), group("g2")
CAROL = person("carol")  # never agreed to take part
SCRIPT = "health-data-intro"


def test_a_reply_to_the_person_who_acted_names_their_event_and_nothing_else_does() -> None:
    press = ButtonPressed(CAROL, G1, "mydata", T0, press_id="p1", token="t1")
    origin = origin_of(press)
    assert origin == Origin(CAROL, G1, "t1")
    assert answering(origin, SendPrivate(CAROL, "yours", G1)).answers == origin
    assert answering(origin, CheckAccess(G1, CAROL)).answers == origin
    # Someone else's private message, and what the group sees, answer nothing.
    assert answering(origin, SendPrivate(FRAN, "theirs", G1)).answers is None
    assert answering(origin, SendText(G1, "all")) == SendText(G1, "all")
    # A reply that already names what it answers keeps it.
    other = Origin(CAROL, G2, "t2")
    assert answering(origin, SendPrivate(CAROL, "x", answers=other)).answers == other
    # A message is answered where it was written, with no token; a timer answers no one.
    assert origin_of(MessagePosted(CAROL, G2, "m1", "hi", T0)) == Origin(CAROL, G2)
    assert origin_of(TimerFired(G1, "step", T0, person=FRAN)) is None
    # A private message without a platform handle needs no more than a private reply.
    assert origin_of(MessagePosted(CAROL, None, "m2", "hi", T0)) is None
    assert answering(None, SendPrivate(CAROL, "x")).answers is None


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Context(LIBRARY, TEXTS, T0, cycle_id="default")


def start_in_thread(actor: Actor) -> CommandIssued:
    return CommandIssued(actor.person, G1, "start", (SCRIPT,), T0, token="t1", opens_topic=True)


def test_a_start_that_would_succeed_asks_the_platform_for_a_topic_first(ctx: Context) -> None:
    fran = Actor(FRAN, G1, facilitator=True)
    event = start_in_thread(fran)
    moved = engine.step(SessionState(G1), event, fran, ctx)
    title = LIBRARY.scripts[SCRIPT].title
    assert moved.state == SessionState(G1)  # nothing starts in the channel itself
    assert moved.actions == (OpenTopic(G1, title, event),)
    assert moved.captures == () and moved.effects == ()
    # The same start without a topic starts the session where it was asked.
    here = engine.step(SessionState(G1), replace(event, opens_topic=False), fran, ctx)
    assert here.state is not None and here.state.live


@pytest.mark.parametrize(
    ("actor", "args"),
    [
        (Actor(CAROL, G1), (SCRIPT,)),  # not a facilitator
        (Actor(FRAN, G1, facilitator=True, registered=False), (SCRIPT,)),
        (Actor(FRAN, G1, facilitator=True), ("no-such-script",)),
    ],
)
def test_a_start_that_is_refused_opens_no_topic_and_says_why_as_it_would_anyway(
    actor: Actor, args: tuple[str, ...], ctx: Context
) -> None:
    event = replace(start_in_thread(actor), args=args)
    moved = engine.step(SessionState(G1), event, actor, ctx)
    anyway = engine.step(SessionState(G1), replace(event, opens_topic=False), actor, ctx)
    assert moved == anyway
    (said,) = moved.actions
    assert isinstance(said, SendPrivate) and said.person == actor.person


def test_a_vote_without_consent_asks_for_consent_through_a_private_button(ctx: Context) -> None:
    fran = Actor(FRAN, G1, facilitator=True)
    running_state = engine.step(
        SessionState(G1), command(FRAN, G1, f"/start {SCRIPT}", "1"), fran, ctx
    )
    assert running_state.state is not None
    moved = engine.step(
        running_state.state,
        command(FRAN, G1, "/goto research-comfort", "2"),
        fran,
        ctx,
    )
    assert moved.state is not None
    carol = Actor(CAROL, G1)
    vote = VoteCast(CAROL, G1, "research-comfort", (1,), T0, press_id="p", token="p")
    (note,) = engine.step(moved.state, vote, carol, ctx).actions
    assert isinstance(note, SendPrivate) and note.asks_consent and note.group == G1
    assert [b.private for b in note.buttons] == [True]


@dataclass
class Interleaving(Recorder):
    """A platform that is slow to perform, so two groups' events are handled interleaved."""

    async def perform(self, action: Action) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        await super().perform(action)


async def test_interleaved_events_of_one_person_in_two_groups_each_get_their_own_answer(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1, G2]) as bot:
        slow = Interleaving("chat")
        bot.service.attach(slow)
        for chat in (G1, G2):
            await bot.service.handle(command(FRAN, chat, f"/start {SCRIPT}", f"{chat.chat_id}-1"))
            await bot.service.handle(command(FRAN, chat, "/goto research-comfort", "2"))
        slow.actions.clear()
        token = {G1: "press-in-g1", G2: "press-in-g2"}
        asked = {G1: "mydata-in-g1", G2: "mydata-in-g2"}
        events = [
            VoteCast(
                CAROL, chat, "research-comfort", (1,), T0, press_id=token[chat], token=token[chat]
            )
            for chat in (G1, G2)
        ] + [
            replace(command(CAROL, chat, "/mydata", asked[chat]), token=asked[chat])
            for chat in (G1, G2)
        ]
        await asyncio.gather(*(bot.service.handle(event) for event in events))
        replies = [a for a in slow.actions if isinstance(a, SendPrivate) and a.person == CAROL]
        answered = sorted(
            (a.answers.token, a.answers.group.chat_id)
            for a in replies
            if a.answers and a.answers.group
        )
        # Every reply names the event it answers: the vote's note and the data, per group.
        assert len(replies) == len(answered) == 4
        assert answered == sorted(
            [(token[G1], "g1"), (token[G2], "g2"), (asked[G1], "g1"), (asked[G2], "g2")]
        )
        for reply in replies:
            assert reply.answers is not None
            if reply.asks_consent:
                assert reply.group == reply.answers.group
