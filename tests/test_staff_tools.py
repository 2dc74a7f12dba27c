"""Staff tools through the real `dialogue` command: person requests, schedules, usage errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.cycles import CycleStore
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.cli import dialogue, launch, type_lines
from tests.support.staff import SESSION, run_session, staff_config


async def test_staff_show_and_erase_a_person_who_asked_by_email(
    database_url: str, tmp_path: Path, repo: Repository
) -> None:
    config = staff_config(tmp_path, database_url)
    run_session(config, tmp_path)
    alice = ("--platform", "console", "--user-id", "alice")

    shown = dialogue(config, "person", "show", *alice)
    assert shown.returncode == 0, shown.stderr
    assert "What we store about you:" in shown.stdout
    assert "ALICE-EMAIL-REQUEST my words" in shown.stdout
    assert "BOB-STAYS" not in shown.stdout

    refused = dialogue(config, "person", "erase", *alice, typed="no\n")
    assert refused.returncode == 1
    assert "console user alice: 1 replies" in refused.stdout
    assert "Nothing was erased." in refused.stdout
    assert "ALICE-EMAIL-REQUEST" in dialogue(config, "person", "show", *alice).stdout

    erased = dialogue(config, "person", "erase", *alice, typed="yes\n")
    assert erased.returncode == 0, erased.stderr
    assert "Erased console user alice: 1 replies" in erased.stdout
    assert "We don't store anything about you." in dialogue(config, "person", "show", *alice).stdout
    assert (
        "BOB-STAYS"
        in dialogue(config, "person", "show", "--platform", "console", "--user-id", "bob").stdout
    )

    # The same erasure as /withdraw confirm: its audit entry, plus the staff request's.
    erasures = await repo.audit_entries("erasure")
    requests = await repo.audit_entries("staff_request")
    assert [e.detail["responses"] for e in erasures] == [1]
    pseudonym = erasures[0].detail["pseudonym"]
    assert [(r.detail["request"], r.detail["pseudonym"]) for r in requests] == [
        ("show", pseudonym),
        ("show", pseudonym),
        ("erase", pseudonym),
        ("show", pseudonym),
        ("show", requests[-1].detail["pseudonym"]),
    ]
    assert requests[-1].detail["pseudonym"] != pseudonym
    every_entry = repr([e.detail for e in await repo.audit_entries()])
    assert "alice" not in every_entry and "ALICE-EMAIL" not in every_entry
    assert "bob" not in every_entry

    scripted = dialogue(
        config, "person", "erase", "--platform", "console", "--user-id", "bob", "--yes"
    )
    assert scripted.returncode == 0 and "Erased console user bob: 1 replies" in scripted.stdout


def test_staff_cancel_a_schedule_and_closing_a_cycle_clears_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    config = staff_config(tmp_path, database_url)
    created = dialogue(
        config,
        "cycle",
        "create",
        "2027-c1",
        "--title",
        "T",
        "--start",
        "2027-01-01",
        "--end",
        "2099-12-31",
        "--scripts",
        "timed",
    )
    assert created.returncode == 0, created.stdout
    assert dialogue(config, "cycle", "open", "2027-c1").returncode == 0
    assert dialogue(config, "group", "add", "console:g").returncode == 0
    for day in ("2090-01-01", "2090-01-02"):
        added = dialogue(config, "schedule", "add", "console:g", "timed", day, "10:00")
        assert added.returncode == 0, added.stdout + added.stderr
    listed = dialogue(config, "schedule", "list").stdout.splitlines()
    assert [line.split(":")[0] for line in listed] == ["1", "2"]

    cancelled = dialogue(config, "schedule", "cancel", "1")
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert "Scheduled session 1 is cancelled" in cancelled.stdout
    assert [
        line.split(":")[0] for line in dialogue(config, "schedule", "list").stdout.splitlines()
    ] == ["2"]
    again = dialogue(config, "schedule", "cancel", "1")
    assert again.returncode == 2 and "no scheduled session 1 still to open" in again.stdout

    closed = dialogue(config, "cycle", "close", "2027-c1")
    assert closed.returncode == 0, closed.stderr
    assert "1 scheduled sessions of this cycle were cancelled." in closed.stdout
    assert dialogue(config, "schedule", "list").stdout == ""


def test_a_group_no_longer_registered_has_its_scheduled_sessions_cancelled(
    database_url: str, tmp_path: Path
) -> None:
    config = staff_config(tmp_path, database_url)
    for group in ("console:g", "console:other"):
        assert dialogue(config, "group", "add", group).returncode == 0
        for day in ("2090-01-01", "2090-01-02"):
            added = dialogue(config, "schedule", "add", group, "timed", day, "10:00")
            assert added.returncode == 0, added.stdout + added.stderr
    removed = dialogue(config, "group", "remove", "console:g")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.splitlines() == [
        "console:g: no longer registered",
        "Its scheduled sessions still to open were cancelled (numbers 1, 2): "
        "a group that is not registered opens none.",
    ]
    assert dialogue(config, "schedule", "list").stdout.splitlines() == [
        "3: console:other timed at 2090-01-01 10:00 GMT",
        "4: console:other timed at 2090-01-02 10:00 GMT",
    ]
    again = dialogue(config, "group", "remove", "console:g")
    assert again.stdout.splitlines() == ["console:g: was not registered"]


def test_groups_and_schedules_of_unknown_or_disabled_platforms_are_refused(
    database_url: str, tmp_path: Path
) -> None:
    config = staff_config(tmp_path, database_url)
    unknown = dialogue(config, "group", "add", "whatsapp:123")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines()[-1] == (
        "Usage problem: dialogue group add: 'whatsapp' is not a platform; "
        "use one of console, telegram, discord"
    )
    disabled = dialogue(config, "group", "add", "telegram:-100123")
    assert disabled.returncode == 2
    assert disabled.stderr.strip().splitlines()[-1] == (
        "Usage problem: dialogue group add: the telegram platform is disabled; "
        "set telegram.enabled = true in the settings file to use it"
    )
    scheduled = dialogue(config, "schedule", "add", "discord:42", "timed", "2090-01-01", "10:00")
    assert scheduled.returncode == 2
    assert "set discord.enabled = true" in scheduled.stderr
    assert dialogue(config, "schedule", "list").stdout == ""
    assert "registered" in dialogue(config, "group", "add", "console:g").stdout


def test_usage_mistakes_read_as_usage_problems(database_url: str, tmp_path: Path) -> None:
    config = staff_config(tmp_path, database_url)
    for args in (
        ("schedule", "cancel", "first"),
        ("person", "show", "--platform", "console"),
        ("group", "add", "telegram:abc"),
        ("export",),
    ):
        result = dialogue(config, *args)
        assert result.returncode == 2, args
        assert "Usage problem: " in result.stderr, (args, result.stderr)
        assert "Configuration problem" not in result.stderr


def test_an_export_of_nothing_says_so_and_writes_no_folder(
    database_url: str, tmp_path: Path
) -> None:
    config = staff_config(tmp_path, database_url)
    out = tmp_path / "export"
    empty = dialogue(config, "export", "--out", str(out))
    assert empty.returncode == 1, empty.stderr
    assert empty.stdout.strip() == (
        "Nothing to export: the database holds no replies or votes yet; no folder was written."
    )
    assert not out.exists()
    run_session(config, tmp_path)
    written = dialogue(config, "export", "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert (out / "MANIFEST.json").is_file()


async def _lease_renewals(url: str, count: int) -> None:
    engine = make_engine(url)
    try:
        store, seen = CycleStore(engine), []
        for _ in range(600):
            lease = await store.lease()
            if lease is not None and lease.expires_at not in seen:
                seen.append(lease.expires_at)
                if len(seen) > count:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError("the running bot's scheduler did not poll")
    finally:
        await engine.dispose()


async def test_a_running_bot_stops_capturing_a_person_erased_from_the_command_line(
    database_url: str, tmp_path: Path
) -> None:
    config = staff_config(tmp_path, database_url, "[schedule]\npoll_seconds = 1\n")
    bot = launch(config, "run", "--console", "--acknowledge", stderr=None)
    assert bot.stdin is not None
    try:
        type_lines(bot, SESSION, len(SESSION))
        alice = ("--platform", "console", "--user-id", "alice")
        erased = dialogue(config, "person", "erase", *alice, "--yes")
        assert erased.returncode == 0, erased.stderr
        # Two lease renewals: one whole poll of the running bot began after the erasure.
        await _lease_renewals(database_url, 2)
        later = ["alice: ALICE-AFTER-ERASURE still here", "bob: BOB-LATER more"]
        type_lines(bot, later, len(SESSION) + 2)
    finally:
        bot.stdin.close()
        bot.wait(timeout=60)
    assert "We don't store anything about you." in dialogue(config, "person", "show", *alice).stdout
    bob = dialogue(config, "person", "show", "--platform", "console", "--user-id", "bob")
    assert "BOB-LATER more" in bob.stdout
