"""The test databases: a fresh PostgreSQL database per test, on the server the environment names."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import default_keys, make_engine

POSTGRES_URL = os.environ.get("DIALOGUE_TEST_DATABASE_URL")


@asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server at ``server_url``, dropped (with its key store) after."""
    name = f"dialogue_t_{secrets.token_hex(6)}"
    engine = make_engine(server_url)
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        yield url
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        # Its key store, made where a server's database keeps them unless set (storage.db).
        Path(default_keys(url)).unlink(missing_ok=True)
    finally:
        await engine.dispose()
