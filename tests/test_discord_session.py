"""A whole Discord session against simcord, an in-process fake Discord, through the real adapter.

Three members take part: alice and bob agree with different scopes (alice through the join
button, bob through /consent), carol never does. The bot restarts in the middle, and the
buttons and menus it posted before keep working.
"""

from pathlib import Path

import pytest
import simcord
from sqlalchemy import select

from bot import logs
from storage.tables import handled_messages
from tests.support.cli import dialogue
from tests.support.discord_helpers import (
    PSEUDONYM_KEY,
    World,
    database_bytes,
    discord_world,
    replies,
    text_of,
)
from tests.support.export_text import export_text

SCRIPT = "health-data-intro"
PEOPLE = ("alice", "bob", "carol", "staff")


def export(config: Path, out: Path) -> str:
    result = dialogue(
        config, "export", "--out", str(out), env={"DIALOGUE_PSEUDONYM_KEY": PSEUDONYM_KEY}
    )
    assert result.returncode == 0, result.stderr
    return export_text(out)


async def test_whole_session_in_a_thread_keeps_only_consented_words(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    async with discord_world(tmp_path, database_url, PEOPLE) as world:
        log_file = world.app.settings.logging.file
        assert log_file is not None
        logs.configure("DEBUG", log_file)
        await run_session(world)

    logged = log_file.read_text(encoding="utf-8")
    assert "event handled" in logged
    assert "could not handle" not in logged and "Traceback" not in logged
    exported = export(world.config, tmp_path / "export")
    assert "ALICE-REPLY-ONE edited after the restart" in exported
    assert "BOB-REPLY-ONE corrected" in exported
    for secret in (
        "CAROL-SECRET",
        "ALICE-TYPO",
        "ALICE-GONE-AFTER-RESTART",
        "BOB-REPLY-ONE original",
        "ALICE-IN-THE-CHANNEL",
    ):
        assert secret not in logged
        assert secret not in exported
    if database_url.startswith("sqlite"):
        stored = database_bytes(database_url)
        assert b"ALICE-REPLY-ONE" not in stored  # kept (and exported), but sealed at rest
        for secret in (b"CAROL-SECRET", b"ALICE-TYPO", b"ALICE-GONE", b"ALICE-IN-THE-CHANNEL"):
            assert secret not in stored


async def run_session(world: World) -> None:
    env, guild = world.env, world.guild
    channel = guild.create_text_channel("community-dialogue")
    fac = guild.add_member(env.create_user("fac"), roles=[guild.create_role("Facilitator")])
    alice, bob, carol, staff = (world.people[name] for name in PEOPLE)
    # Carol is not a facilitator: she is refused privately and no thread is opened.
    refused = await carol.slash(channel, "dialogue start", script=SCRIPT)
    assert refused.ephemeral
    assert "only this group's facilitators can use /start" in text_of(replies(refused))
    early = await fac.slash(channel, "dialogue start", script=SCRIPT)
    assert "isn't registered for dialogues yet" in text_of(replies(early))
    assert channel.threads == []
    registered = await staff.slash(channel, "dialogue register")
    assert registered.acknowledged and "now registered" in channel.last_message.content

    choices = await fac.autocomplete(channel, "dialogue start", "script", "health")
    assert [c["value"] for c in choices] == [SCRIPT]
    started = await fac.slash(channel, "dialogue start", script=SCRIPT)
    assert started.ephemeral and "Step 1 of 17" in text_of(replies(started))
    (thread,) = channel.threads
    assert thread.name.startswith("Your health and care data")
    join = next(m for m in thread.history() if m.components)

    # Alice joins with the button and ticks two scopes on the ephemeral form.
    form = await alice.click(join, label="Join this dialogue")
    assert form.ephemeral
    (panel,) = replies(form)
    assert "Taking part (consent text version" in panel.embeds[0].description
    await alice.click(panel, label="⬜ participate")
    await alice.click(panel, label="⬜ quote")
    agreed = await alice.click(panel, label="Confirm my choices")
    assert "Thank you for agreeing to: participate, quote" in text_of(replies(agreed))

    # Bob uses /consent and chooses participate and profile.
    form = await bob.slash(thread, "consent")
    (panel,) = replies(form)
    for label in ("⬜ participate", "⬜ profile", "Confirm my choices"):
        agreed = await bob.click(panel, label=label)
    assert "participate, profile" in text_of(replies(agreed))

    # Carol speaks without agreeing: she is invited privately, once; nothing is kept.
    await carol.send(thread, "CAROL-SECRET-ZEBRA hello everyone")
    await carol.send(thread, "CAROL-SECRET-YAK still here")
    invitations = carol.user.dm_channel.history()
    assert len(invitations) == 1 and "not being recorded" in invitations[0].content
    assert invitations[0].components  # the invitation has its own join button

    await fac.slash(thread, "dialogue next")
    card = thread.last_message
    assert card.embeds[0].title == "What is health and care data?"
    assert card.embeds[0].fields and card.embeds[0].fields[0].value.startswith("http")
    await fac.slash(thread, "dialogue next")
    alice_reply = await alice.send(thread, "ALICE-REPLY-ONE my GP keeps my notes")
    bob_reply = await bob.send(thread, "BOB-REPLY-ONE original words")
    await carol.send(thread, "CAROL-SECRET-QUOKKA I have views too")
    # Only the session's thread is recorded, not its channel.
    await alice.send(channel, "ALICE-IN-THE-CHANNEL outside the thread")
    typo = await alice.send(thread, "ALICE-TYPO-DELETE-ME")
    gone_later = await alice.send(thread, "ALICE-GONE-AFTER-RESTART")
    await bob.edit(bob_reply, "BOB-REPLY-ONE corrected words")
    await alice.delete(typo)

    steps = await fac.autocomplete(thread, "dialogue goto", "step", "comfort")
    assert [c["value"] for c in steps] == ["research-comfort", "research-comfort-why"]
    await fac.slash(thread, "dialogue goto", step="research-comfort")
    question = thread.last_message
    before = interaction_ids(env)
    voted = await alice.select(question, ["2"])
    assert "recorded: Fairly comfortable" in text_of(replies(voted))
    # The press is remembered by its interaction id, so Discord dispatching it again (a
    # resumed gateway session replays what it sent) cannot count it twice.
    (pressed,) = interaction_ids(env) - before
    assert f"press:{pressed}" in await handled_keys(world)
    await bob.select(question, ["4"])
    invited = await carol.select(question, ["1"])
    assert "answer wasn't recorded" in text_of(replies(invited)) and invited.ephemeral
    # The facilitator's live tally is one direct message, edited as answers come in.
    dms = fac.user.dm_channel.history()
    (tally,) = [
        m for m in dms if m.content.startswith("Live answers to “Think about health and care data")
    ]
    assert "(2 people so far)" in tally.content

    # The bot restarts: a new process builds everything again from the settings.
    await world.restart()

    changed = await bob.select(question, ["3"])
    assert "recorded: Not very comfortable" in text_of(replies(changed))
    bobs = text_of(replies(await bob.slash(thread, "mydata")))
    # His answer, by the question's words and the option's, never by their ids or numbers.
    assert "”: Not very comfortable" in bobs and "Not at all comfortable" not in bobs
    assert "research-comfort" not in bobs
    # Edits and deletions of messages the new process never saw are mirrored too.
    assert world.platform.client._connection._get_message(alice_reply.id) is None
    await alice.edit(alice_reply, "ALICE-REPLY-ONE edited after the restart")
    await alice.delete(gone_later)

    await fac.slash(thread, "dialogue goto", step="conditions")
    several = await alice.select(thread.last_message, ["1", "3"])
    assert "clear benefit to the public; An independent group" in text_of(replies(several))
    stale = await alice.select(question, ["1"])
    assert "isn't open any more" in text_of(replies(stale))
    await fac.slash(thread, "dialogue goto", step="trust-scale")
    scale = await bob.click(thread.last_message, label="4")
    assert "recorded: 4" in text_of(replies(scale))
    ended = await fac.slash(thread, "dialogue end")
    assert ended.acknowledged and "end of this session" in thread.last_message.content

    mine = await alice.slash(thread, "mydata")
    assert mine.ephemeral
    assert "ALICE-REPLY-ONE edited after the restart" in text_of(replies(mine))
    assert "ALICE-GONE-AFTER-RESTART" not in text_of(replies(mine))
    assert_no_mentions(env)


def interaction_ids(env: simcord.Env) -> set[str]:
    """The interactions the bot has answered so far."""
    return {
        request.path.split("/")[-3]
        for request in env.http_requests
        if request.path.startswith("/interactions/") and request.path.endswith("/callback")
    }


async def handled_keys(world: World) -> set[str]:
    """The keys of the messages and presses the bot has handled once."""
    async with world.app.database.connect() as conn:
        rows = await conn.execute(select(handled_messages.c.message_id))
        return {key for (key,) in rows}


def assert_no_mentions(env: simcord.Env) -> None:
    """Every message the bot sent or changed said that nobody may be mentioned."""
    bodies = []
    for request in env.http_requests:
        body = request.json or {}
        if request.path.endswith("/callback"):
            body = body.get("data") or {}
        if request.method in ("POST", "PATCH") and ("content" in body or "embeds" in body):
            bodies.append((request.path, body))
    assert len(bodies) > 20
    for path, body in bodies:
        assert body.get("allowed_mentions") == {"parse": []}, path
