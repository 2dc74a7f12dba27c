"""Erased stays erased: a message withdrawn, forgotten or deleted is never stored again.

Whatever brings it back (a console fed the same input again, a redelivery after a crash, a
catch-up, a replay long after handled messages were purged), and also after its author agrees
again. The messages are remembered only by a keyed hash of their platform key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.captures import ResponseCaptured, ResponseDeleted, ResponseEdited, SessionSaved
from bot.core.ids import GroupRef, MessageRef, PersonRef
from bot.core.state import SessionState, Status
from storage._erased import Marks
from storage.db import make_engine
from storage.tables import erased_messages, handled_messages, pending_edits
from storage.writer import QueuedRepository
from tests.support.capture import STORE_KEY, stored_replies
from tests.support.cli import dialogue, write_config
from tests.support.export_text import export_text

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
CHAT = GroupRef("telegram", "-1001")
ALICE, BOB = PersonRef("telegram", "41"), PersonRef("telegram", "42")
CONSOLE_KEY = "erasure-test-key-0123456789abcdef"


def reply(mid: str, text: str, who: PersonRef = ALICE) -> ResponseCaptured:
    return ResponseCaptured("s1", who, CHAT, "first-thoughts", mid, text, T0)


def message(mid: str) -> MessageRef:
    return MessageRef(CHAT.platform, CHAT.chat_id, mid)


async def stored_texts(engine: AsyncEngine) -> list[str]:
    return sorted(reply.text for reply in await stored_replies(engine))


async def marks_in(engine: AsyncEngine) -> set[bytes]:
    async with engine.connect() as conn:
        return {bytes(m) for m in (await conn.execute(select(erased_messages.c.mark))).scalars()}


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("own_process", [True, False], ids=["own-process", "in-process"])
async def test_erased_messages_stay_out_after_handled_messages_are_purged(
    engine: AsyncEngine, own_process: bool
) -> None:
    now = [T0]
    remember = timedelta(days=1)

    def writer() -> QueuedRepository:
        return QueuedRepository(
            engine, STORE_KEY, remember=remember, clock=lambda: now[0], own_process=own_process
        )

    first = writer()
    await first.start()
    state = SessionState(CHAT, Status.RUNNING, "s1", "c1", "health-data-intro", "1", 2, T0, T0)
    await first.apply([SessionSaved(state)])
    # A deletion that comes before its message, then every message.
    await first.apply([ResponseDeleted(CHAT, "m4", T0)])
    for mid, text in (("m1", "WITHDRAWN"), ("m2", "FORGOTTEN"), ("m3", "DELETED")):
        assert await first.apply_once(message(mid), [reply(mid, text)])
    assert not await first.apply_once(message("m4"), [reply("m4", "DELETED-EARLY")])
    assert await first.apply_once(message("m5"), [reply("m5", "BOB-KEPT", BOB)])
    await first.apply([ResponseDeleted(CHAT, "m2", T0, ALICE)])  # /forget
    await first.apply([ResponseDeleted(CHAT, "m3", T0)])  # deleted on the platform
    erasure = await first.erase_person(ALICE, "p-alice", T0)  # /withdraw
    assert erasure.responses == 1
    await first.close()

    now[0] = T0 + 2 * remember
    later = writer()
    await later.start()  # purges handled messages older than a day
    async with engine.connect() as conn:
        assert (await conn.execute(select(handled_messages))).all() == []
    # Alice agreed again; everything comes back, by every path a copy can take.
    for mid, text in (("m1", "WITHDRAWN"), ("m2", "FORGOTTEN"), ("m3", "DELETED")):
        assert not await later.apply_once(message(mid), [reply(mid, text)])
        again = [reply(mid, text), SessionSaved(state)]  # not a plain reply: claimed first
        assert not await later.apply_once(message(mid), again)
        await later.apply([reply(mid, text)])  # no message to claim at all
        await later.apply([ResponseEdited(ALICE, CHAT, mid, f"{text}-EDITED", T0)])
    assert not await later.apply_once(message("m4"), [reply("m4", "DELETED-EARLY")])
    assert await later.apply_once(message("m6"), [reply("m6", "ALICE-NEW")])
    await later.close()

    assert await stored_texts(engine) == ["ALICE-NEW", "BOB-KEPT"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(pending_edits))).all() == []
    # Only keyed hashes are kept: nothing of the message, its chat or its author.
    marks = Marks(STORE_KEY)
    assert await marks_in(engine) == {
        marks.of(CHAT.platform, CHAT.chat_id, mid) for mid in ("m1", "m2", "m3", "m4")
    }


# The console: line N of an input is message "<input id>-N".
CONSOLE_RUN = [
    "facilitator: /start health-data-intro",
    "alice: /agree participate",
    "bob: /agree participate",
    "facilitator: /goto first-thoughts",
    "alice: ALICE-WITHDRAWN-ONE my first thought",
    "alice: ALICE-FORGOTTEN-TWO said too much",
    "alice: /forget 2",
    "alice: ALICE-DELETED-THREE a typo",
    "alice deletes 8",
    "bob: BOB-KEPT stays",
    "alice: /withdraw",
    "alice: /withdraw confirm",
    "alice: /agree participate",
    "alice: ALICE-AGAIN after agreeing again",
]


async def test_a_console_fed_the_same_input_again_stores_no_erased_words(
    database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", database_url)
    env = {"DIALOGUE_PSEUDONYM_KEY": CONSOLE_KEY}
    transcript = tmp_path / "input.txt"
    transcript.write_text("\n".join(CONSOLE_RUN) + "\n", encoding="utf-8")
    run = ("run", "--transcript", str(transcript), "--input-id", "talk")

    first = dialogue(config, *run, env=env)
    assert first.returncode == 0, first.stderr
    assert "Done. We have withdrawn your consent and erased:" in first.stdout
    assert "- 1 reply\n" in first.stdout
    # The bot restarts and is fed the same input again (after a crash, or by mistake).
    second = dialogue(config, *run, env=env)
    assert second.returncode == 0, second.stderr

    engine = make_engine(database_url)
    try:
        assert await stored_texts(engine) == [
            "ALICE-AGAIN after agreeing again",
            "BOB-KEPT stays",
        ]
        marks = Marks(CONSOLE_KEY.encode())
        assert await marks_in(engine) == {
            marks.of("console", "console", f"talk-{line}") for line in (5, 6, 8)
        }
    finally:
        await engine.dispose()
    export = tmp_path / "export"
    assert dialogue(config, "export", "--out", str(export), env=env).returncode == 0
    exported = export_text(export)
    assert "BOB-KEPT" in exported  # the scan reads what was exported
    for erased in ("ALICE-WITHDRAWN", "ALICE-FORGOTTEN", "ALICE-DELETED"):
        assert erased not in exported
