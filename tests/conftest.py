import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.db import make_engine, upgrade
from storage.repositories import Repository
from tests.support.databases import POSTGRES_URL, fresh_postgres_database
from tests.support.telegram_fake import FakeBotApi


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                POSTGRES_URL is None,
                reason="set DIALOGUE_TEST_DATABASE_URL to a PostgreSQL URL to run these",
            ),
        ),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    assert POSTGRES_URL is not None
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """Telegram's Bot API, faked on 127.0.0.1."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await upgrade(database_url)
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
