"""A new platform is one module and one entry in the registry's list: the settings (file and
environment), ``dialogue run``, ``invite``, ``group``, ``health``, secrets and logging take it
with no other change. The fake platform is ``tests/support/fakechat.py``; the entry is added
in the ``dialogue`` process before anything reads the list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import ROOT, clean_env

# `dialogue ARGS` with the fake platform appended to the registry's list (its one entry);
# last, it names the other platforms' libraries it loaded.
DIALOGUE_WITH_FAKECHAT = """
import sys
from bot.platforms import registry
from tests.support import fakechat
registry.PLATFORMS = (*registry.PLATFORMS, fakechat.PLATFORM)
from bot.cli.main import main
try:
    raise SystemExit(main(sys.argv[1:]))
finally:
    print("LOADED", *sorted({m.split(".")[0] for m in sys.modules} & {"telegram", "discord"}))
"""
KEY = "k" * 64


def dialogue_with_fakechat(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DIALOGUE_WITH_FAKECHAT, "--config", str(config), *args],
        cwd=ROOT,
        env=clean_env({"DIALOGUE_PSEUDONYM_KEY": KEY, **(env or {})}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_config(tmp_path: Path, fakechat: str) -> Path:
    config = tmp_path / "dialogue.toml"
    config.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{tmp_path}/test.db"
[console]
enabled = false
[schedule]
enabled = false
[capture]
writer_process = false
[logging]
file = "{tmp_path}/dialogue.log"
level = "DEBUG"
[fakechat]
{fakechat}
""",
        encoding="utf-8",
    )
    return config


def test_a_platform_added_to_the_registry_is_configured_run_invited_and_given_groups(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, 'greeting = "hi there"')
    on = {"DIALOGUE_FAKECHAT__ENABLED": "true", "FAKECHAT_LOG": str(tmp_path / "fakechat.log")}

    # Off by default: its groups are refused, as any disabled platform's.
    refused = dialogue_with_fakechat(config, "group", "add", "fakechat:room-1")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "Usage problem: dialogue group add: the fakechat platform is disabled; "
        "set fakechat.enabled = true in the settings file to use it"
    )
    # Switched on from the environment; its own rule about chat ids is applied.
    added = dialogue_with_fakechat(config, "group", "add", "fakechat:room-1", env=on)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[0] == "fakechat:room-1: registered"
    wrong = dialogue_with_fakechat(config, "group", "add", "fakechat:lobby", env=on)
    assert wrong.returncode == 2
    assert "(a fakechat room's id starts with room-)" in wrong.stderr
    scheduled = dialogue_with_fakechat(
        config,
        "schedule",
        "add",
        "fakechat:room-1",
        "health-data-intro",
        "2090-01-01",
        "10:00",
        env=on,
    )
    assert scheduled.returncode == 0, scheduled.stderr

    invited = dialogue_with_fakechat(
        config, "invite", "--cycle", "default", "--group", "fakechat:room-1", env=on
    )
    assert invited.returncode == 0, invited.stderr
    assert invited.stdout.splitlines()[0] == "fakechat: say hi there in the room room-1"

    # Its token is one more secret: checked by health, hidden from the log.
    missing = dialogue_with_fakechat(config, "health", env=on)
    assert (
        "critical fakechat token: fakechat.enabled is true but DIALOGUE_FAKECHAT_TOKEN is not set"
        in missing.stdout
    )
    token = "fakechat-token-" + "f" * 30
    ran = dialogue_with_fakechat(config, "run", env={**on, "DIALOGUE_FAKECHAT_TOKEN": token})
    assert ran.returncode == 0, ran.stderr
    assert "Running on fakechat. Press Ctrl-C to stop." in ran.stdout
    assert ran.stdout.rsplit("LOADED", 1)[1].strip() == ""  # nor telegram, nor discord.py
    assert (tmp_path / "fakechat.log").read_text(encoding="utf-8") == "started hi there\nstopped\n"
    assert token not in (tmp_path / "dialogue.log").read_text(encoding="utf-8")


def test_a_registered_platforms_settings_table_is_checked_like_any_other(
    tmp_path: Path,
) -> None:
    typo = dialogue_with_fakechat(write_config(tmp_path, 'greting = "hi"'), "group", "list")
    assert typo.returncode == 2
    assert (
        f"{tmp_path / 'dialogue.toml'}: fakechat.greting: unknown setting; check the spelling"
        in typo.stderr
    )
    secret = dialogue_with_fakechat(write_config(tmp_path, 'token = "abc"'), "group", "list")
    assert secret.returncode == 2
    assert (
        "fakechat.token: secrets must not be written in the config file; set the environment "
        "variable DIALOGUE_FAKECHAT_TOKEN instead"
    ) in secret.stderr
