"""The actor a plain reply is decided for: made once per person and group, made again on change.

Nearly every event in a busy group is a reply that needs no fact beyond its author's consent,
and the service keeps the actor it made for the person's last such event there. Whatever the
actor was made from (consent, registration, a grant or revocation, a chosen language) makes a
new one once it changes, so each reply is decided on what holds when it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.context import Actor
from bot.core.ids import GroupRef, PersonRef
from storage.tables import person_languages, responses
from tests.support.capture import (
    T0,
    Harness,
    at_a_prompt,
    command,
    group,
    on_decided,
    person,
    running,
    say,
    stored_replies,
    user_ids,
)

ALICE, BOB = person("alice"), person("bob")
G1, G2 = group("g1"), group("g2")


def actors_seen(h: Harness) -> list[Actor]:
    """The actor of every event the engine is handed from now on, in order."""
    seen: list[Actor] = []
    on_decided(h, lambda _, actor: seen.append(actor))
    return seen


async def languages_stored(h: Harness) -> dict[str, str | None]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(select(responses.c.message_id, responses.c.language))
        return {r.message_id: r.language for r in rows}


async def test_a_persons_replies_in_a_row_are_decided_for_one_actor_made_once(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE, BOB)
        seen = actors_seen(h)
        for n, who in enumerate((ALICE, ALICE, BOB, ALICE)):
            await h.service.handle(say(who, G1, f"m{n}", "my answer"))
        first, again, bob, third = seen
        assert again is first and third is first
        assert bob is not first and bob.person == BOB
        assert first.person == ALICE and first.group == G1


async def replies_around(
    h: Harness, *changes: Callable[[], Awaitable[object]], where: GroupRef = G1
) -> list[Actor]:
    """Alice replies (m1), then again after each change (m2, ...): each reply's actor."""
    seen = actors_seen(h)
    actors = []
    for n, change in enumerate([None, *changes], start=1):
        if change is not None:
            await change()
        await h.service.handle(say(ALICE, where, f"m{n}", "a reply"))
        actors.append(seen[-1])
    return actors


async def test_a_reply_after_a_language_is_chosen_is_decided_and_stored_in_it(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        before, after = await replies_around(
            h, lambda: h.service.handle(command(ALICE, G1, "/language bn", "c-bn"))
        )
        assert before.chosen_language is None and after.chosen_language == "bn"
        assert await languages_stored(h) == {"m1": "en", "m2": "bn"}


async def test_a_grant_and_a_revocation_change_the_actor_of_the_next_reply(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        roles = h.service.roles
        seen = await replies_around(
            h, lambda: roles.grant(G1, ALICE, T0), lambda: roles.revoke(G1, ALICE)
        )
        assert [a.facilitator for a in seen] == [False, True, False]


async def test_a_group_registered_meanwhile_is_registered_for_the_next_event(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        seen = await replies_around(h, lambda: h.service.roles.register(G2, T0), where=G2)
        assert [a.registered for a in seen] == [False, True]


async def test_a_reply_after_withdrawing_is_not_stored_though_the_last_was(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        before, after = await replies_around(
            h, lambda: h.service.handle(command(ALICE, G1, "/withdraw confirm", "c-withdraw"))
        )
        assert "participate" in before.scopes and not after.scopes
        assert set(await languages_stored(h)) == set()  # the withdrawal erased m1 as well


async def test_an_erased_persons_next_reply_is_decided_afresh_and_not_stored(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        before, after = await replies_around(h, lambda: h.service.erase(ALICE, T0))
        assert after is not before and not after.scopes
        assert await languages_stored(h) == {}


async def test_a_consent_widened_between_replies_is_in_the_next_replys_actor(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        before, after = await replies_around(
            h, lambda: h.service.handle(command(ALICE, G1, "/agree participate quote", "c-quote"))
        )
        assert "quote" not in before.scopes and "quote" in after.scopes


async def consented_in_both(h: Harness) -> None:
    """Alice agreed in G1 and G2."""
    await at_a_prompt(h, G1, ALICE)
    await at_a_prompt(h, G2, ALICE)


async def alices_words_and_identities(h: Harness) -> tuple[list[str], int]:
    """The message ids of every stored reply, and how many identities are alice's."""
    async with h.engine.connect() as conn:
        named = list((await user_ids(conn)).values()).count(ALICE.user_id)
    return [r.message_id for r in await stored_replies(h.engine)], named


async def withdrawn_while_held(h: Harness, call: str) -> None:
    """Alice withdraws in G1 and replies in G2 ("late"), the store's first ``call`` held.

    Her erasure is held before it reaches the writer while she replies; a read (her consent
    in G2, her language), made for her reply, is answered only once she has been erased.
    The bot started since she agreed: nothing of hers is in its memory.
    """
    await h.service.resume()
    held, reached = asyncio.Event(), asyncio.Event()
    original = getattr(h.store, call)
    before = call == "erase_person"

    async def held_call(*args: Any) -> Any:
        found = None if before else await original(*args)
        if not reached.is_set():
            reached.set()
            await held.wait()
        return await original(*args) if before else found

    setattr(h.store, call, held_call)
    late = say(ALICE, G2, "late", "ALICE-SECRET")
    withdraw = command(ALICE, G1, "/withdraw confirm", "c-withdraw")
    first, then = (withdraw, late) if before else (late, withdraw)
    waiting = asyncio.ensure_future(h.service.handle(first))
    await reached.wait()
    await h.service.handle(then)
    held.set()
    await waiting


@pytest.mark.parametrize("call", ["erase_person", "consent", "language"])
async def test_no_reply_of_a_person_erased_while_their_consent_was_read_is_stored(
    migrated_url: str, call: str
) -> None:
    async with running(migrated_url, [G1, G2]) as h:
        await consented_in_both(h)
    async with running(migrated_url, [G1, G2]) as h:
        await withdrawn_while_held(h, call)
        await h.service.handle(say(ALICE, G2, "after", "ALICE-SECRET after"))
        assert await alices_words_and_identities(h) == ([], 0)


@pytest.mark.parametrize("call", ["erase_person", "language"])
async def test_an_erased_persons_language_is_not_stored_again_when_they_agree_again(
    migrated_url: str, call: str
) -> None:
    async with running(migrated_url, [G1, G2]) as h:
        await consented_in_both(h)
        await h.service.handle(command(ALICE, G1, "/language bn", "c-bn"))
    async with running(migrated_url, [G1, G2]) as h:
        await withdrawn_while_held(h, call)
        await h.service.handle(command(ALICE, G2, "/agree participate", "c-again"))
        async with h.engine.connect() as conn:
            assert (await conn.execute(select(person_languages.c.language))).all() == []


async def test_anothers_consent_stored_while_a_persons_is_read_leaves_the_read_standing(
    migrated_url: str,
) -> None:
    # Many people agree at once when a session starts: each one's consent stored must not send
    # everyone else's read of theirs, or the actor made from it, round again (a burst of 3,200
    # agreeing in the capture bench did not finish).
    async with running(migrated_url, [G1, G2]) as h:
        await at_a_prompt(h, G1, ALICE)
    async with running(migrated_url, [G1, G2]) as h:
        await h.service.resume()
        held, reached = asyncio.Event(), asyncio.Event()
        reads: list[PersonRef] = []
        consent = h.store.consent

        async def held_consent(person: PersonRef, group: GroupRef) -> Any:
            reads.append(person)
            found = await consent(person, group)
            if person == ALICE and not reached.is_set():
                reached.set()
                await held.wait()
            return found

        h.store.consent = held_consent  # type: ignore[method-assign]
        waiting = asyncio.ensure_future(h.service.handle(say(ALICE, G1, "a1", "from alice")))
        await reached.wait()
        await h.service.handle(command(BOB, G2, "/agree participate", "c-bob"))
        held.set()
        await waiting
        assert reads.count(ALICE) == 1
        assert [r.message_id for r in await stored_replies(h.engine)] == ["a1"]
