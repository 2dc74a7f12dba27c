"""A whole session through the real `dialogue run` on Telegram, against the fake Bot API.

Three people in a group: Alice agrees to everything through the deep link's button, Bob to
taking part only by typing /agree in private, Carol never agrees. The bot is stopped half way
and Telegram sends the last updates again; every reply and vote is still stored once, Carol's
words reach no byte of the database, the logs or an export, and Bob's withdrawal erases his.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage.db import make_engine, sqlite_file
from tests.support.capture import stored_replies
from tests.support.telegram import ROOT, button_with, last_with_buttons, settle, texts_in
from tests.support.telegram_fake import FakeBotApi, TelegramUser

CAROL = "CAROL-SECRET"
SCRIPT = "health-data-intro"
START_SECONDS = 180


def write_config(path: Path, fake: FakeBotApi, database_url: str, log: Path, staff: int) -> None:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[content]\nroot = "{ROOT}"\n'
        f'[logging]\nlevel = "DEBUG"\nfile = "{log}"\n'
        "[schedule]\nenabled = false\n"
        "[limits]\ncommands_per_minute = 1000.0\ncommand_burst = 100\n"
        "[telegram]\nenabled = true\n"
        f'api_base_url = "http://{fake.host}:{fake.port}"\n'
        f"staff = [{staff}]\npoll_timeout_seconds = 1\nadmin_cache_seconds = 0\n"
        "group_messages_per_minute = 10000.0\nmessages_per_second = 10000.0\n",
        encoding="utf-8",
    )


def environment(fake: FakeBotApi, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGUE_")}
    env["DIALOGUE_TELEGRAM_TOKEN"] = fake.token
    if not database_url.startswith("sqlite"):
        env["DIALOGUE_PSEUDONYM_KEY"] = "test-key-0123456789abcdef"
    return env


class Bot:
    """`dialogue run` as a child process, stopped with SIGTERM like a service manager does."""

    def __init__(self, config: Path, env: dict[str, str], out: Path) -> None:
        self.config, self.env, self.out = config, env, out
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, fake: FakeBotApi) -> None:
        polls = len(fake.calls_to("getUpdates"))
        with self.out.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli.main",
                "--config",
                str(self.config),
                "run",
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
            )
        # Until it polls: a first start migrates a new database, which on a busy machine
        # takes far longer than the bot's usual second, so only a hung start times out.
        deadline = time.monotonic() + START_SECONDS
        while len(fake.calls_to("getUpdates")) <= polls:
            assert self.process.returncode is None, self.out.read_text()
            if time.monotonic() > deadline:
                raise TimeoutError(self.out.read_text())
            await asyncio.sleep(0.05)

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest.fixture
async def bots() -> AsyncIterator[list[Bot]]:
    """Bots a test starts; any still running when it ends (it failed) are killed."""
    started: list[Bot] = []
    yield started
    for bot in started:
        await bot.kill()


async def dialogue(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def rows(database_url: str, query: str) -> list[Any]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(query)))
    finally:
        await engine.dispose()


def choice_button(fake: FakeBotApi, group: Any, label_start: str) -> tuple[dict[str, Any], str]:
    message = last_with_buttons(fake, group)
    button = button_with(message, lambda b: b["text"].startswith(label_start))
    return message, button["callback_data"]


async def say(fake: FakeBotApi, user: TelegramUser, chat: Any, words: str, **kw: Any) -> Any:
    sent = user.say(chat, words, **kw)
    await settle(fake)
    return sent


async def next_steps(fake: FakeBotApi, fran: TelegramUser, group: Any, count: int) -> None:
    for _ in range(count):
        await say(fake, fran, group, "/next")


async def test_whole_telegram_session_stores_consented_words_once_and_nothing_else(
    database_url: str, tmp_path: Path, bots: list[Bot]
) -> None:
    log_file, out = tmp_path / "dialogue.log", tmp_path / "out.txt"
    async with FakeBotApi() as fake:
        sam = fake.user("Sam", username="sam_staff")
        fran = fake.user("Fran", username="fran")
        alice = fake.user("Alice", username="alice")
        bob = fake.user("Bob", username="bob")
        carol = fake.user("Carol", username="carol")
        group = fake.group("Tenants", kind="supergroup", members=[sam, fran, alice, bob, carol])
        fake.add_admin(group, fran)
        fran.start_private()
        config = tmp_path / "config.toml"
        write_config(config, fake, database_url, log_file, sam.id)
        env = environment(fake, database_url)
        bot = Bot(config, env, out)
        bots.append(bot)
        await bot.start(fake)

        await say(fake, fran, group, f"/start {SCRIPT}")
        assert "isn't registered" in texts_in(fake, fran)[-1]
        await say(fake, sam, group, "/register")
        await say(fake, fran, group, f"/start {SCRIPT}")
        join = last_with_buttons(fake, group)
        link = button_with(join, lambda b: "url" in b)["url"]
        assert link.startswith("https://t.me/dialogue_test_bot?start=")
        token = link.split("start=")[1]

        alice.start_private(token)
        await settle(fake)
        consent = last_with_buttons(fake, alice)
        assert "Taking part" in consent["text"]
        alice.press(consent, button_with(consent, lambda b: "all" in b["text"])["callback_data"])
        await settle(fake)
        bob.start_private(token)
        await settle(fake)
        await say(fake, bob, bob, "/agree participate")
        await say(fake, carol, group, f"{CAROL}-ZEBRA hello everyone")
        await say(fake, carol, group, f"{CAROL}-YAK still just reading")
        invitations = [t for t in texts_in(fake, group) if t.startswith("Carol, I can't write")]
        assert len(invitations) == 1

        await next_steps(fake, fran, group, 2)  # what-is-data (card), first-thoughts (prompt)
        await say(fake, alice, group, "ALICE-REPLY-ONE my GP keeps my notes")
        bob_reply = await say(fake, bob, group, "BOB-REPLY-ONE original words")
        bob.edit(bob_reply, "BOB-REPLY-ONE corrected words")
        await say(fake, carol, group, f"{CAROL}-QUOKKA I have views too")
        typo = await say(fake, alice, group, "ALICE-TYPO-FORGET-ME")
        await say(fake, alice, group, "/forget", reply_to=typo)
        alice.send_sticker(group)
        await next_steps(fake, fran, group, 4)  # own-care, own-care-experiences, wider-uses,
        # research-comfort (a choice)
        message, data = choice_button(fake, group, "2.")
        alice.press(message, data)
        for label in ("4.", "3."):
            bob.press(*choice_button(fake, group, label))
        carol.press(*choice_button(fake, group, "1."))
        await settle(fake)
        await next_steps(fake, fran, group, 7)  # ... trust-scale (a scale), what-would-help,
        # conditions (several answers)
        for label in ("1.", "3.", "1."):
            alice.press(*choice_button(fake, group, label))
        await say(fake, bob, group, "/vote 1,3")

        assert await bot.stop() == 0
        replayed = fake.redeliver(8)  # Telegram never heard that the last updates arrived
        assert any("callback_query" in u for u in replayed)
        bot = Bot(config, env, out)
        bots.append(bot)
        await bot.start(fake)
        await settle(fake)
        await say(fake, alice, group, "ALICE-AFTER-RESTART the session picked up")
        await say(fake, alice, group, "/mydata")
        await next_steps(fake, fran, group, 3)  # message-to-decision-makers, feedback, close
        await say(fake, fran, group, "/end")

        engine = make_engine(database_url)
        try:
            stored = await stored_replies(engine)
        finally:
            await engine.dispose()
        assert sorted(r.text for r in stored) == sorted(
            [
                "ALICE-REPLY-ONE my GP keeps my notes",
                "BOB-REPLY-ONE corrected words",
                "",  # Alice's sticker: its kind, no content
                "ALICE-AFTER-RESTART the session picked up",
            ]
        )
        assert [e for r in stored for e in r.earlier] == ["BOB-REPLY-ONE original words"]
        votes = await rows(database_url, "SELECT step_id, options FROM votes ORDER BY id")
        assert sorted((v.step_id, v.options) for v in votes) == [
            ("conditions", "1,3"),
            ("conditions", "3"),
            ("research-comfort", "2"),
            ("research-comfort", "3"),
        ]
        await say(fake, bob, bob, "/withdraw confirm")
        assert await bot.stop() == 0

        group_texts = texts_in(fake, group)
        assert_every_step_arrived(fake, group, group_texts)
        assert not any("Live answers" in t or "What we store" in t for t in group_texts)
        fran_texts = texts_in(fake, fran)
        TALLY_HEADER = (  # noqa: N806
            "Live answers to “Think about health and care data being used for research and to "
            "plan services, with names…” (2 people so far):"
        )
        tallies = [t for t in fran_texts if t.startswith("Live answers to “Think about")]
        options = choices_of("research-comfort")
        counts = {2: 1, 3: 1}  # Alice's 2, Bob's 3 (his 4 replaced), nothing of Carol's
        expected = [f"{n}. {option}: {counts.get(n, 0)}" for n, option in enumerate(options, 1)]
        # One message, edited as the votes came in.
        assert tallies == ["\n".join([TALLY_HEADER, *expected])]
        assert any("ALICE-REPLY-ONE" in t for t in texts_in(fake, alice))  # /mydata, privately
        answers = [a for a in fake.callback_answers.values() if a["url"]]
        assert [a["url"] for a in answers] == [link]  # Carol's vote opened the consent chat
        assert "erased:\n- 1 reply\n- 2 answers\n" in texts_in(fake, bob)[-1]

        export = tmp_path / "export"
        code, output = await dialogue(
            "--config", str(config), "export", "--out", str(export), env=env
        )
        assert code == 0, output
        exported = b"".join(p.read_bytes() for p in export.rglob("*") if p.is_file())
        assert b"ALICE-REPLY-ONE" in exported
        logs = log_file.read_bytes() + out.read_bytes()
        assert b"event handled" in logs and b"Traceback" not in logs
        for marker in (CAROL.encode(), b"BOB-REPLY", b"ALICE-REPLY", b"ALICE-TYPO"):
            assert marker not in logs
        assert CAROL.encode() not in exported and b"BOB-REPLY" not in exported
        if database_url.startswith("sqlite"):
            stored_bytes = database_bytes(database_url)
            assert b"ALICE-REPLY-ONE" not in stored_bytes  # exported above, but sealed at rest
            for marker in (CAROL.encode(), b"BOB-REPLY", b"ALICE-TYPO-FORGET-ME"):
                assert marker not in stored_bytes


def choices_of(step_id: str) -> tuple[str, ...]:
    from bot.content.check import load_library

    script = load_library(ROOT).scripts[SCRIPT]
    return script.steps[script.index_of(step_id) or 0].choices()


def assert_every_step_arrived(fake: FakeBotApi, group: Any, group_texts: list[str]) -> None:
    from bot.content.check import load_library

    library = load_library(ROOT)
    script = library.scripts[SCRIPT]
    joined = "\n".join(group_texts)
    for step in script.steps:
        assert step.text.strip()[:60] in joined, step.id
        for card_id in step.cards:
            assert library.cards[card_id].title in joined, card_id
    keyboards = [m for m in fake.messages_in(group) if m.get("reply_markup")]
    for step in (s for s in script.steps if s.kind == "choice"):
        keyboard = next(m for m in keyboards if m["text"].startswith(step.text.strip()[:40]))
        buttons = [b for row in keyboard["reply_markup"]["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == [
            f"{n}. {option}"[:64] for n, option in enumerate(step.choices(), start=1)
        ]
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert "That's the end of this session." in joined


def database_bytes(url: str) -> bytes:
    path = sqlite_file(url)
    assert path is not None
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )
