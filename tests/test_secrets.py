"""No token, key or database password is printed or logged, whatever a server answers."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from bot import logs
from bot.app import secrets_held
from bot.settings import Settings, secrets_in_use
from tests.support.cli import ROOT, clean_env, write_config
from tests.support.telegram_fake import FakeBotApi

KEY = "secrets-test-key-0123456789abcdef"
PASSWORD = "S3cret/Passw0rd"
ODD_ANSWERS = {
    "an HTML error page": (500, "<html><body><h1>500 Internal Server Error</h1></body></html>"),
    "a body that echoes the request": (200, "Cannot handle {path}"),
    "an error page that echoes the request": (502, "<h1>Bad gateway</h1><p>{path}</p>"),
}


async def dialogue_run(config: Path, token: str) -> tuple[int, str, str]:
    """Run ``dialogue run`` (the fake server keeps serving in this loop meanwhile)."""
    env = clean_env({"DIALOGUE_TELEGRAM_TOKEN": token, "DIALOGUE_PSEUDONYM_KEY": KEY})
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli.main", "--config", str(config), "run"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("answer", ODD_ANSWERS)
async def test_an_odd_bot_api_answer_stops_the_bot_with_one_sentence_and_no_token(
    fake: FakeBotApi, tmp_path: Path, answer: str
) -> None:
    status, body = ODD_ANSWERS[answer]
    fake.answer_raw(status, body)
    log_file = tmp_path / "dialogue.log"
    more = (
        f'[telegram]\nenabled = true\napi_base_url = "http://{fake.host}:{fake.port}"\n'
        f'[logging]\nlevel = "DEBUG"\nfile = "{log_file}"\n'
    )
    config = write_config(tmp_path / "config.toml", f"sqlite+aiosqlite:///{tmp_path}/d.db", more)
    status, out, err = await dialogue_run(config, fake.token)
    logged = log_file.read_text(encoding="utf-8")
    assert fake.calls == [] and "getMe" not in logged  # the fake answered raw, untracked
    secret_half = fake.token.partition(":")[2]
    for text in (out, err, logged):
        assert secret_half not in text
        assert "Traceback" not in text
    assert status == 2
    problem = err.strip().splitlines()
    assert problem[0] == "Configuration problem:" and len(problem) == 2, err
    assert problem[1].startswith("telegram.api_base_url: ")
    assert f"http://{fake.host}:{fake.port}" in problem[1]


def test_log_lines_and_tracebacks_hide_every_configured_secret(
    monkeypatch: pytest.MonkeyPatch, restore_logging: None, tmp_path: Path
) -> None:
    token = "7000000001:AAF" + "t" * 32
    monkeypatch.setenv("DIALOGUE_TELEGRAM_TOKEN", token)
    monkeypatch.setenv("DIALOGUE_DISCORD_TOKEN", "discord-token-" + "d" * 40)
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", KEY)
    url = f"postgresql+asyncpg://bob:{PASSWORD.replace('/', '%2F')}@db.example.org/dialogue"
    settings = Settings(database={"url": url})
    log_file = tmp_path / "dialogue.log"
    logs.configure("DEBUG", log_file, logs.Masks(secrets_in_use(settings)))
    log = logging.getLogger("tests.secrets")
    try:
        raise RuntimeError(f"could not open {url} for bot{token} with {KEY}")
    except RuntimeError:
        log.exception("failed at https://api.telegram.org/bot%s/getMe", token)
    log.warning("password %s, token half %s", PASSWORD, token.partition(":")[2])
    log.info("discord %s", "discord-token-" + "d" * 40)
    written = log_file.read_text(encoding="utf-8")
    assert "Traceback" in written and written.count("[hidden]") == 7
    for value in (token.partition(":")[2], "d" * 40, KEY, PASSWORD, "S3cret%2FPassw0rd"):
        assert value not in written
    # Library loggers that carry request URLs stay quiet even at DEBUG.
    for name in ("httpx", "httpcore", "telegram.request"):
        assert not logging.getLogger(name).isEnabledFor(logging.ERROR)


def test_a_pseudonym_key_kept_in_a_file_is_hidden_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DIALOGUE_PSEUDONYM_KEY", raising=False)
    key = tmp_path / "dialogue.key"
    key.write_text("f" * 64 + "\n", encoding="utf-8")
    settings = Settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/d.db"}, privacy={"key_file": key}
    )
    masks = logs.Masks(secrets_held(settings))
    assert masks(f"key {'f' * 64} used") == "key [hidden] used"
