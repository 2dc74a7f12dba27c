import compileall
import ipaddress
import logging
import multiprocessing
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from exporters import theme_fit
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.cli import ROOT
from tests.support.databases import POSTGRES_URL, Migrated, fresh_postgres_database
from tests.support.telegram_fake import FakeBotApi

# What an export's analyses import (exporters.theme_fit, exporters.opinion).
ANALYSES_IMPORT = ["exporters.analyses", "reddwarf.implementations.polis", *theme_fit.LIBRARIES]


def pytest_configure(config: pytest.Config) -> None:
    """The analyses' fork server imports their libraries once for the whole run (each worker's),
    so that an export's analyses start in milliseconds instead of about 3 s of imports; a bot
    pays those imports once an export. Tests that break a library start theirs by 'spawn'.

    The bot's modules are compiled once, by the run's first process: where the environment
    sets PYTHONDONTWRITEBYTECODE (this machine does), every `dialogue` a test starts would
    otherwise compile them again, as an installed bot (compiled at install) never does."""
    multiprocessing.set_forkserver_preload(ANALYSES_IMPORT)
    if not hasattr(config, "workerinput"):
        for package in ("bot", "storage", "exporters"):
            compileall.compile_dir(ROOT / package, quiet=1)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


DATABASES = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            POSTGRES_URL is None,
            reason="set DIALOGUE_TEST_DATABASE_URL to a PostgreSQL URL to run these",
        ),
    ),
]


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    if POSTGRES_URL is None:  # asked for by name (indirect), past DATABASES' own skip mark
        pytest.skip("set DIALOGUE_TEST_DATABASE_URL to a PostgreSQL URL to run these")
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """Telegram's Bot API, faked on 127.0.0.1."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    templates = Migrated(tmp_path_factory.mktemp("migrated"), POSTGRES_URL)
    yield templates
    templates.drop()


@pytest.fixture
async def migrated_url(database_url: str, migrated: Migrated) -> str:
    """The test's database at the newest schema, as `upgrade` leaves a new one."""
    await migrated.copy_into(database_url)
    return database_url


@pytest.fixture
async def repo(migrated_url: str) -> AsyncIterator[Repository]:
    engine = make_engine(migrated_url)
    try:
        yield Repository(engine, b"k" * 32)
    finally:
        await engine.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger back after a test that configures logging (as `dialogue` does)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _is_local(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # Unix sockets
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests cannot reach the network: only loopback connections are allowed."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _is_local(address):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
        real_connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not _is_local(address):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
