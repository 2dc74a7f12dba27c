"""A real Service on the real capture writer, a platform that records, and what got stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.content.check import Library, load_library
from bot.content.scopes import Scope
from bot.core.context import Actor
from bot.core.events import CommandIssued, Event, MessageDeleted, MessageEdited, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.service.intake import IntakeRules
from bot.service.shell import Policy, Service
from bot.texts import Catalogue
from exporters.pseudonymise import Pseudonymiser
from storage._keys import PERSON_COLUMNS, open_person
from storage._scopes import agreed_to
from storage.db import make_engine
from storage.keystore import keys_of
from storage.sealed import open_earlier, open_reply
from storage.tables import (
    consents,
    groups,
    pending_edits,
    response_edits,
    responses,
    sessions,
    votes,
)
from storage.writer import QueuedRepository
from tests.support.cli import ROOT
from tests.support.recording import Recorder

LIBRARY = load_library(ROOT)
TEXTS = Catalogue.load()
T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
PLATFORM = "chat"
# The pseudonym key of stores the tests build (erased messages are marked with it).
STORE_KEY = b"k" * 32
FRAN = PersonRef(PLATFORM, "fran")  # facilitates every group


def t(key: str, **params: object) -> str:
    return TEXTS.get("en", key, **params)


def group(name: str) -> GroupRef:
    return GroupRef(PLATFORM, name)


def person(name: str) -> PersonRef:
    return PersonRef(PLATFORM, name)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def say(who: PersonRef, where: GroupRef, mid: str, text: str, when: float = 0) -> MessagePosted:
    return MessagePosted(who, where, mid, text, at(when))


def command(
    who: PersonRef, where: GroupRef | None, line: str, mid: str | None, when: float = 0
) -> CommandIssued:
    name, *args = line.lstrip("/").split()
    return CommandIssued(who, where, name, tuple(args), at(when), mid)


def edit(who: PersonRef, where: GroupRef, mid: str, text: str, when: float) -> MessageEdited:
    return MessageEdited(who, where, mid, text, at(when))


def delete(who: PersonRef, where: GroupRef, mid: str, when: float) -> MessageDeleted:
    return MessageDeleted(where, mid, at(when), who)


@dataclass
class Harness:
    service: Service
    store: QueuedRepository
    platform: Recorder
    engine: AsyncEngine
    groups: list[GroupRef] = field(default_factory=list)


@asynccontextmanager
async def running(
    url: str,
    chats: Iterable[GroupRef],
    rules: IntakeRules | None = None,
    queue_size: int = 1000,
    batch_size: int = 500,
    library: Library = LIBRARY,
    texts: Catalogue = TEXTS,
) -> AsyncIterator[Harness]:
    """A service on the capture writer, for groups that FRAN facilitates; the clock stands still."""
    engine = make_engine(url)
    store = QueuedRepository(engine, STORE_KEY, queue_size=queue_size, batch_size=batch_size)
    await store.start()
    chats = list(chats)
    policy = Policy(
        facilitators={chat: frozenset({FRAN}) for chat in chats}, registered=frozenset(chats)
    )
    service = Service(
        store, library, texts, policy, Pseudonymiser(STORE_KEY), clock=lambda: T0, rules=rules
    )
    platform = Recorder(PLATFORM)
    service.attach(platform)
    try:
        yield Harness(service, store, platform, engine, chats)
    finally:
        await store.close()
        await engine.dispose()


def on_decided(h: Harness, told: Callable[[Event, Actor], None]) -> None:
    """Tell ``told`` of every event the engine is handed from now on, with its actor."""
    step: Callable[..., Any] = h.service.intake.step

    def watched(state: object, event: Event, scopes: object, actor: Actor, *rest: Any) -> Any:
        told(event, actor)
        return step(state, event, scopes, actor, *rest)

    h.service.intake.step = watched  # type: ignore[method-assign,assignment]


async def at_a_prompt(h: Harness, where: GroupRef, *people: PersonRef) -> None:
    """A session in ``where`` at its first open question; ``people`` agreed to take part."""
    await h.service.handle(command(FRAN, where, "/start health-data-intro", "c-start"))
    for n, who in enumerate(people):
        await h.service.handle(command(who, where, "/agree participate", f"c-agree{n}"))
    await h.service.handle(command(FRAN, where, "/goto first-thoughts", "c-goto"))


@dataclass(frozen=True)
class StoredReply:
    """A stored reply as a test reads it back: its text opened with its person's key."""

    session_id: str
    message_id: str
    kind: str
    text: str
    earlier: tuple[str, ...]  # its earlier texts, oldest first


async def stored_replies(engine: AsyncEngine) -> list[StoredReply]:
    """Every stored reply, in the order stored."""
    async with engine.connect() as conn:
        keys = keys_of(conn)
        history: dict[int, list[str]] = {}
        earlier = await conn.execute(
            select(response_edits, responses.c.participant_id)
            .join(responses, responses.c.id == response_edits.c.response_id)
            .order_by(response_edits.c.replaced_at)
        )
        for e in earlier:
            text = open_earlier(keys, e.participant_id, e.response_id, e.previous_text)
            history.setdefault(e.response_id, []).append(text)
        rows = await conn.execute(select(responses).order_by(responses.c.id))
        return [
            StoredReply(
                r.session_id,
                r.message_id,
                r.kind,
                open_reply(keys, r.participant_id, (r.platform, r.chat_id, r.message_id), r.text),
                tuple(history.get(r.id, ())),
            )
            for r in rows
        ]


async def user_ids(conn: AsyncConnection) -> dict[int, str]:
    """Every stored person's user id (opened: it is stored sealed), by participant id."""
    keys = keys_of(conn)
    found = await conn.execute(select(*PERSON_COLUMNS))
    return {row[0]: open_person(keys, *row).user_id for row in found}


async def snapshot(engine: AsyncEngine) -> dict[str, Any]:
    """Everything stored that a clean run and a messy one must agree on (no ids, no clocks)."""
    async with engine.connect() as conn:
        earlier = (
            select(func.count())
            .where(response_edits.c.response_id == responses.c.id)
            .scalar_subquery()
        )
        stored = await conn.execute(
            select(
                responses.c.chat_id,
                responses.c.message_id,
                responses.c.participant_id,
                responses.c.step_id,
                responses.c.text,
                responses.c.edited_at,
                responses.c.original_length,
                earlier,
                responses.c.platform,
            )
        )
        keys = keys_of(conn)
        users = await user_ids(conn)
        replies = [
            (
                *r[:2],
                users[r.participant_id],
                r.step_id,
                open_reply(keys, r.participant_id, (r.platform, r.chat_id, r.message_id), r.text),
                *r[5:8],
            )
            for r in stored
        ]
        answered = await conn.execute(
            select(groups.c.chat_id, votes.c.participant_id, votes.c.step_id, votes.c.options).join(
                groups, groups.c.id == votes.c.group_id
            )
        )
        agreed = await conn.execute(
            select(
                groups.c.chat_id,
                consents.c.participant_id,
                *(
                    agreed_to(scope, consents.c.participant_id, consents.c.group_id)
                    for scope in (Scope.PARTICIPATE, Scope.QUOTE)
                ),
            ).join(groups, groups.c.id == consents.c.group_id)
        )
        states = await conn.execute(
            select(groups.c.chat_id, sessions.c.status, sessions.c.step_index).join(
                groups, groups.c.id == sessions.c.group_id
            )
        )
        waiting = (await conn.execute(select(func.count()).select_from(pending_edits))).scalar()
        return {
            "responses": sorted(replies),
            "votes": sorted((r[0], users[r[1]], *r[2:]) for r in answered),
            "consents": sorted((r[0], users[r[1]], *r[2:]) for r in agreed),
            "sessions": sorted(tuple(r) for r in states),
            "pending_edits": waiting,
        }
