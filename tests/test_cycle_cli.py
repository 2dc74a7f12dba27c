"""`dialogue cycle` and `dialogue schedule` through the real command line."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import dialogue, write_config
from tests.support.clockwork import content_root


def test_staff_plan_open_list_and_close_cycles_with_times_in_london(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path)
    key = f'[privacy]\nkey_file = "{tmp_path / "k.key"}"\n'
    config = write_config(tmp_path / "config.toml", database_url, key, root)
    create = dialogue(
        config,
        "cycle",
        "create",
        "2027-c1",
        "--title",
        "Health data",
        "--theme",
        "sharing",
        "--start",
        "2027-03-01",
        "--end",
        "2027-04-30",
        "--scripts",
        "timed,health-data-intro",
    )
    assert create.returncode == 0, create.stderr
    # The end date is a whole day: the cycle closes at midnight after it, in summer time.
    assert create.stdout.strip() == (
        "Planned cycle 2027-c1: opens 2027-03-01 00:00 GMT, closes 2027-05-01 00:00 BST."
    )
    again = dialogue(
        config,
        "cycle",
        "create",
        "2027-c1",
        "--title",
        "x",
        "--start",
        "2027-03-01",
        "--end",
        "2027-03-02",
        "--scripts",
        "nope",
    )
    assert again.returncode == 2
    assert "--scripts: no such script: nope" in again.stdout

    assert dialogue(config, "cycle", "open", "2027-c1").returncode == 0
    listed = dialogue(config, "cycle", "list")
    assert listed.stdout.split()[:2] == ["2027-c1", "open"]
    shown = dialogue(config, "cycle", "show", "2027-c1")
    assert "Scripts: timed, health-data-intro" in shown.stdout

    # What the session's opening would refuse is refused now, and nothing is scheduled.
    unregistered = dialogue(config, "schedule", "add", "console:g", "timed", "2030-03-31", "18:30")
    assert (unregistered.returncode, unregistered.stdout.strip()) == (
        2,
        "dialogue schedule add: console:g is not registered, so no session may open there; "
        "register it first: dialogue group add console:g",
    )
    assert dialogue(config, "group", "add", "console:g").returncode == 0
    no_script = dialogue(config, "schedule", "add", "console:g", "nope", "2030-03-31", "18:30")
    assert (no_script.returncode, no_script.stdout.strip()) == (
        2,
        "dialogue schedule add: there is no script 'nope'; "
        "scripts in prompts/: health-data-intro, timed",
    )
    assert dialogue(config, "schedule", "list").stdout == ""
    skipped = dialogue(config, "schedule", "add", "console:g", "timed", "2030-03-31", "01:30")
    assert skipped.returncode == 2 and "the clocks skip that time" in skipped.stdout
    planned = dialogue(config, "schedule", "add", "console:g", "timed", "2030-03-31", "18:30")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "2030-03-31 18:30 BST" in planned.stdout
    assert "console:g timed at 2030-03-31 18:30 BST" in dialogue(config, "schedule", "list").stdout

    closed = dialogue(config, "cycle", "close", "2027-c1")
    assert closed.returncode == 0, closed.stderr
    assert (root / "resources" / "heard-2027-c1.md").is_file()
    assert "closed already" in dialogue(config, "cycle", "close", "2027-c1").stdout
    unknown = dialogue(config, "cycle", "open", "2099-x")
    assert (unknown.returncode, unknown.stdout.strip()) == (
        2,
        "dialogue cycle open: there is no cycle '2099-x' (cycles: 2027-c1)",
    )
