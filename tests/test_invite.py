"""`dialogue invite`: a link per enabled platform and a QR code that reads back as the link."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

from bot.core.direct import cycle_of, invitation
from bot.core.ids import GroupRef
from bot.platforms.telegram.codec import group_from_token
from tests.support.cli import dialogue, write_config


def invite(tmp_path: Path, *args: str, telegram: bool = True) -> subprocess.CompletedProcess[str]:
    platforms = (
        f"[telegram]\nenabled = {'true' if telegram else 'false'}\n[discord]\nenabled = true\n"
    )
    config = write_config(
        tmp_path / "config.toml", f"sqlite+aiosqlite:///{tmp_path}/d.db", platforms
    )
    return dialogue(config, "invite", *args)


def read_qr(path: Path) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(path).convert("L"))]


def test_invite_prints_a_way_in_per_platform_and_a_qr_code_that_reads_back_as_the_link(
    tmp_path: Path,
) -> None:
    out = tmp_path / "qr"
    result = invite(
        tmp_path, "--cycle", "default", "--telegram-bot", "@dialogue_bot", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["console"] == "NAME> /join default"
    link, qr = lines["telegram"].split("  (QR code: ")
    assert link == "https://t.me/dialogue_bot?start=ddefault"
    assert read_qr(Path(qr.rstrip(")"))) == [link]
    assert lines["discord"].startswith("write /join default to the bot in a direct message")
    # The token names the cycle and nothing else.
    assert cycle_of(link.rsplit("=", 1)[1]) == "default" == cycle_of(invitation("default"))


def test_a_group_invitation_links_to_the_groups_consent(tmp_path: Path) -> None:
    group = "telegram:-1001234567890"
    result = invite(
        tmp_path,
        "--cycle",
        "default",
        "--group",
        group,
        "--telegram-bot",
        "b",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    link = line.split("  (QR code: ")[0].removeprefix("telegram: ")
    token = link.rsplit("=", 1)[1]
    assert group_from_token(token) == GroupRef("telegram", "-1001234567890")
    assert cycle_of(token) is None


def test_invite_problems_are_one_clear_message(tmp_path: Path) -> None:
    unknown = invite(tmp_path, "--cycle", "2030-c9", "--telegram-bot", "b")
    assert unknown.returncode == 2 and "there is no cycle '2030-c9'" in unknown.stderr
    nameless = invite(tmp_path, "--cycle", "default")
    assert nameless.returncode == 2 and "--telegram-bot" in nameless.stderr
    for failed in (unknown, nameless):
        assert "Traceback" not in failed.stderr
