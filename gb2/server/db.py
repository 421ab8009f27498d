"""SQLite storage for the embedded server: one file, WAL mode, one connection per thread.

WAL lets status readers run while the engine and submitters write; writers take
the lock up front (``BEGIN IMMEDIATE``) so concurrent clients queue instead of
failing half-way through a transaction.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


def _regexp(pattern: str | None, value: object) -> bool:
    """SQLite's ``REGEXP`` operator (``value REGEXP pattern``), which SQLite leaves undefined."""
    if pattern is None or value is None:
        return False
    return re.search(pattern, str(value)) is not None


def _make_private(path: Path) -> None:
    """The database holds tokens and device codes: 0600, with its WAL and shared-memory files.

    The file is created before SQLite opens it, because SQLite gives the ``-wal``
    and ``-shm`` files the database file's permissions.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm"):
        try:
            os.chmod(f"{path}{suffix}", 0o600)
        except FileNotFoundError:
            pass


class Database:
    """A SQLite database file shared by the server's threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _make_private(self.path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (created on first use)."""
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            c.row_factory = sqlite3.Row
            for pragma in _PRAGMAS:
                c.execute(pragma)
            c.create_function("regexp", 2, _regexp, deterministic=True)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        c = self.conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot across several queries."""
        c = self.conn()
        c.execute("BEGIN")
        try:
            yield c
        finally:
            c.execute("COMMIT")

    def execute(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """One autocommitted statement; returns all rows."""
        return self.conn().execute(sql, params).fetchall()

    def apply_schema(self, *scripts: str) -> None:
        """Create tables and indexes (each script must be idempotent: ``IF NOT EXISTS``)."""
        c = self.conn()
        for script in scripts:
            c.executescript(script)

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
