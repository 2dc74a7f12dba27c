"""Each person's own key, kept apart from the database, so that erasure can destroy it.

Every text a person typed (replies, their earlier versions, waiting edits, profile answers,
reflections) is stored sealed with AES-GCM under a 256-bit key of that person's own. The keys
live in a small SQLite file of their own, never in the database or its backups; erasing a person
deletes their key with ``secure_delete`` on and no write-ahead log, so every copy of their words
made before (a backup, a dump, the database's WAL, dead rows) can no longer be read.

A key is committed to this file before any text sealed with it is committed to the database, so
a crash between the two leaves a key with nothing to open, never text that nobody can open.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from base64 import urlsafe_b64decode
from binascii import a2b_base64, b2a_base64
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Connection, Engine

from storage.keyed import KeyedHash

if TYPE_CHECKING:
    # The cipher is imported where a key is used (a bot that seals or opens nothing never loads
    # it); the asyncio engine by storage.db, without the ORM.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# The execution option (of an engine, so of its connections) holding the deployment's KeyStore.
OPTION = "person_keys"
MEMORY = ":memory:"
# Sealed values are stored as text (the columns stay what they were): this prefix, then the
# nonce, ciphertext and tag in URL-safe base64.
PREFIX = "sealed:"
_NONCE = 12
_KEY_BYTES = 32  # AES-256, as AESGCM.generate_key(256) makes (from os.urandom too)
# Keys read by one query: under SQLite's oldest limit of 999 bound values.
_CHUNK = 900
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS person_keys ("
    "participant_id INTEGER PRIMARY KEY, key BLOB NOT NULL, created_at TEXT NOT NULL);"
    # The deployment's own keys (one so far: "index", for blind indexes of identifiers).
    "CREATE TABLE IF NOT EXISTS deployment_keys (name TEXT PRIMARY KEY, key BLOB NOT NULL)"
)
_INDEX = "index"
_PRAGMAS = (
    # Deleted keys are overwritten in the file, and no write-ahead log keeps an old page.
    "PRAGMA secure_delete=ON",
    "PRAGMA journal_mode=DELETE",
    # A key must be on disk before the text sealed with it is committed to the database.
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
)


class KeyGone(RuntimeError):
    """A sealed text cannot be opened: its person's key was destroyed, or the text altered."""


class _HasOptions(Protocol):
    def get_execution_options(self) -> Any: ...


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


class KeyStore:
    """The per-person keys of one deployment, in a file of their own (or in memory).

    Keys are cached in this process once read; destroying one drops it here, and a writer in
    another process is told to forget its cache before its next batch (see storage.writer).
    """

    def __init__(self, path: Path | str) -> None:
        """Keep keys in the SQLite file at ``path`` (created readable only by its owner)."""
        self.path = str(path)
        self._lock = threading.Lock()
        self._ciphers: dict[int, AESGCM] = {}
        self._index: KeyedHash | None = None
        # An in-memory store lives as long as this object, in one connection.
        self._memory = (
            sqlite3.connect(MEMORY, check_same_thread=False, isolation_level=None)
            if self.memory
            else None
        )
        if self._memory is not None:
            self._memory.executescript(_SCHEMA)

    @property
    def memory(self) -> bool:
        """Whether the keys live only in this process (for a database in memory)."""
        return self.path == MEMORY

    def seal(self, participant: int, text: str, context: bytes) -> str:
        """The text sealed under the person's key; ``context`` binds it to its row and column.

        The key must exist: call ``ensure`` first (and before the database commits).
        """
        return self.seal_all((participant,), (text,), (context,))[0]

    def seal_all(
        self, participants: Sequence[int], texts: Sequence[str], contexts: Iterable[bytes]
    ) -> list[str]:
        """Many texts (a batch of replies), each sealed as ``seal`` seals it.

        Their random nonces are read from the system in one call (a system call per text cost
        the capture writer a third of a microsecond a reply), each its own part of the bytes.
        """
        nonces = os.urandom(_NONCE * len(participants))
        ciphers = self._ciphers
        sealed: list[str] = []
        for start, participant, text, context in zip(
            range(0, len(nonces), _NONCE), participants, texts, contexts, strict=True
        ):
            nonce = nonces[start : start + _NONCE]
            cipher = ciphers.get(participant) or self._cipher(participant)
            body = cipher.encrypt(nonce, text.encode("utf-8"), context)
            # ``urlsafe_b64encode`` written out, as ``open_all`` does: its wrappers cost more
            # than the encoding of a short text.
            encoded = b2a_base64(nonce + body, newline=False).translate(_TO_URLSAFE)
            sealed.append(PREFIX + encoded.decode("ascii"))
        return sealed

    def open(self, participant: int, sealed: str, context: bytes) -> str:
        """The text of a sealed value; KeyGone when it cannot be opened (fails closed)."""
        if not sealed.startswith(PREFIX):
            raise KeyGone("not a sealed text")
        try:
            raw = urlsafe_b64decode(sealed[len(PREFIX) :])
        except ValueError as exc:
            raise KeyGone("a sealed text that was altered cannot be read") from exc
        from cryptography.exceptions import InvalidTag

        nonce, body = raw[:_NONCE], raw[_NONCE:]
        for fresh in (False, True):
            # A cached key may be stale (destroyed and made anew elsewhere): read it again.
            cipher = self._ciphers.get(participant) if not fresh else self._load(participant)
            if cipher is None:
                continue
            try:
                return cipher.decrypt(nonce, body, context).decode("utf-8")
            except InvalidTag:
                continue
        raise KeyGone("a text whose key is gone, or that was altered, cannot be read")

    def open_all(
        self, participants: Sequence[int], sealed: Sequence[str], contexts: Iterable[bytes]
    ) -> list[str]:
        """The texts of many sealed values (a page of replies), as ``open`` gives each one.

        The keys should be cached (``preload``): a value whose cached key does not open it
        goes through ``open``, which reads the key again and fails closed.
        """
        from cryptography.exceptions import InvalidTag

        ciphers, start, texts = self._ciphers, len(PREFIX), []
        for participant, value, place in zip(participants, sealed, contexts, strict=True):
            cipher = ciphers.get(participant)
            text = None
            if cipher is not None and value.startswith(PREFIX):
                try:
                    # ``urlsafe_b64decode`` written out: its wrappers cost more than the
                    # decoding (the same errors: non-ASCII and bad padding are ValueErrors).
                    raw = a2b_base64(value[start:].encode("ascii").translate(_FROM_URLSAFE))
                    text = cipher.decrypt(raw[:_NONCE], raw[_NONCE:], place).decode("utf-8")
                except (ValueError, InvalidTag):
                    text = None
            texts.append(self.open(participant, value, place) if text is None else text)
        return texts

    def index(self, *parts: str) -> str:
        """A blind index of an identifier: its HMAC-SHA256 (hex) under the deployment's index key.

        The same parts give the same index, so the database can look a person up by it; without
        the key, kept here and not in the database, it names no one and cannot be rebuilt.
        """
        index = self._index or self._load_index_key()
        return index.digest("\x1f".join(parts).encode("utf-8")).hex()

    def _load_index_key(self) -> KeyedHash:
        with self._lock, self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT OR IGNORE INTO deployment_keys VALUES (?, ?)", (_INDEX, os.urandom(32))
            )
            conn.execute("COMMIT")
            (key,) = conn.execute(
                "SELECT key FROM deployment_keys WHERE name = ?", (_INDEX,)
            ).fetchone()
        self._index = KeyedHash(bytes(key))
        return self._index

    def ensure(self, participants: Iterable[int], reread: bool = False) -> None:
        """Make sure these people have keys, creating (and committing) the missing ones.

        ``reread``: trust no cached key of theirs. For people just given their id: an id can be
        given again after its person was erased, whose key another process destroyed.
        """
        wanted = set(participants)
        if reread:
            with self._lock:
                for participant in wanted:
                    self._ciphers.pop(participant, None)
        missing = {p for p in wanted if p not in self._ciphers}
        if not missing:
            return
        with self._lock, self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR IGNORE INTO person_keys VALUES (?, ?, datetime('now'))",
                [(p, os.urandom(_KEY_BYTES)) for p in sorted(missing)],
            )
            conn.execute("COMMIT")
            self._read(conn, missing)

    def preload(self, participants: Iterable[int]) -> None:
        """Read the keys of these people not yet cached, in one connection (a page of replies).

        A person without a key is left out: opening their words fails closed, as before.
        """
        missing = sorted({p for p in participants if p not in self._ciphers})
        if not missing:
            return
        with self._lock, self._connection() as conn:
            for start in range(0, len(missing), _CHUNK):
                self._read(conn, set(missing[start : start + _CHUNK]))

    def destroy(self, participants: Iterable[int]) -> None:
        """Delete these people's keys for good: nothing sealed with them can be read again."""
        gone = list(participants)
        with self._lock:
            for participant in gone:
                self._ciphers.pop(participant, None)
            with self._connection() as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "DELETE FROM person_keys WHERE participant_id = ?", [(p,) for p in gone]
                )
                conn.execute("COMMIT")

    def forget(self) -> None:
        """Drop every cached key (keys may have been destroyed by another process)."""
        with self._lock:
            self._ciphers.clear()

    def _cipher(self, participant: int) -> AESGCM:
        cipher = self._load(participant)
        if cipher is None:
            raise KeyGone("no key for this person: make one before sealing their words")
        return cipher

    def _load(self, participant: int) -> AESGCM | None:
        with self._lock, self._connection() as conn:
            self._ciphers.pop(participant, None)
            self._read(conn, {participant})
        return self._ciphers.get(participant)

    def _read(self, conn: sqlite3.Connection, participants: set[int]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        wanted = sorted(participants)
        marks = ",".join("?" * len(wanted))
        rows = conn.execute(
            f"SELECT participant_id, key FROM person_keys WHERE participant_id IN ({marks})",
            wanted,
        )
        self._ciphers.update((participant, AESGCM(key)) for participant, key in rows)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # A connection per use: cheap next to what it guards, safe across threads and forks.
        if self._memory is not None:
            yield self._memory
            return
        path = Path(self.path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            for pragma in _PRAGMAS:
                conn.execute(pragma)
            conn.executescript(_SCHEMA)
            yield conn
        finally:
            conn.close()


def context(column: str, participant: int, *row: object) -> bytes:
    """The associated data binding a sealed value to its column, person and row."""
    return "\x1f".join((column, str(participant), *map(str, row))).encode("utf-8")


def keys_of(source: AsyncConnection | AsyncEngine | Connection | Engine) -> KeyStore:
    """The key store of a connection's (or engine's) database."""
    sync = getattr(source, "sync_connection", None) or getattr(source, "sync_engine", source)
    store = cast(_HasOptions, sync).get_execution_options().get(OPTION)
    if not isinstance(store, KeyStore):
        raise RuntimeError("this database was opened without its key store (storage.db)")
    return store
