"""What every repository stands on: the engine it reads through and the one it writes through."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage._erased import Marks
from storage.db import for_writes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


class RepositoryBase:
    """An engine for reads, its writing twin (see ``storage.db.for_writes``), and the marks."""

    def __init__(self, engine: AsyncEngine, key: bytes) -> None:
        """Use ``engine`` (from ``storage.db.make_engine``) for every query.

        ``key`` is the deployment's pseudonym key: erased messages are remembered by a hash
        made with it (see storage._erased).
        """
        self._engine = engine
        self._writer = for_writes(engine)
        self._marks = Marks(key)
