"""The test databases: a fresh PostgreSQL database per test, on the server the environment names."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import default_keys, make_engine, sqlite_file, upgrade

POSTGRES_URL = os.environ.get("DIALOGUE_TEST_DATABASE_URL")


@asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server at ``server_url``, dropped (with its key store) after."""
    name = f"dialogue_t_{secrets.token_hex(6)}"
    await _on_server(server_url, f'CREATE DATABASE "{name}"')
    url = _named(server_url, name)
    yield url
    await _on_server(server_url, f'DROP DATABASE "{name}" WITH (FORCE)')
    # Its key store, made where a server's database keeps them unless set (storage.db).
    Path(default_keys(url)).unlink(missing_ok=True)


class Migrated:
    """Databases at the newest schema, each a copy of one migrated once a run (a worker's run):
    copying a file or a template database takes a fraction of running every migration."""

    def __init__(self, folder: Path, server_url: str | None) -> None:
        self.sqlite_template = folder / "migrated.db"
        self.server_url = server_url
        self.postgres_template: str | None = None

    async def copy_into(self, url: str) -> None:
        """Make the new, empty database at ``url`` a migrated one."""
        target = sqlite_file(url)
        if target is not None:
            if not self.sqlite_template.exists():
                await upgrade(f"sqlite+aiosqlite:///{self.sqlite_template}")
            assert not target.exists(), f"{target} is not new"
            shutil.copyfile(self.sqlite_template, target)
            return
        assert self.server_url is not None, "a PostgreSQL test database without its server"
        if self.postgres_template is None:
            template = f"dialogue_t_{secrets.token_hex(6)}"
            await _on_server(self.server_url, f'CREATE DATABASE "{template}"')
            self.postgres_template = template
            await upgrade(_named(self.server_url, template))
        # Nothing has connected to the new database yet: it is made again as the template's copy.
        name = make_url(url).database
        await _on_server(self.server_url, f'DROP DATABASE "{name}"')
        await _on_server(
            self.server_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.postgres_template}"'
        )

    def drop(self) -> None:
        """Drop the PostgreSQL template; called outside the tests' event loops, once they end."""
        if self.server_url is None or self.postgres_template is None:
            return
        statement = f'DROP DATABASE "{self.postgres_template}" WITH (FORCE)'
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, _on_server(self.server_url, statement)).result()


def _named(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


async def _on_server(server_url: str, statement: str) -> None:
    engine = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()
