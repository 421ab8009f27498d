"""Small helpers of the Rucio catalogue: Rucio's date format, chunking, read-only streaming."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from email.utils import formatdate
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: SQLite's default limit on bound variables is far above this; chunks keep IN lists short.
CHUNK = 500


def now() -> float:
    return time.time()


def rucio_date(ts: float | None) -> str | None:
    """Rucio renders datetimes as ``Sun, 22 Nov 2026 02:52:06 UTC``."""
    if ts is None:
        return None
    return formatdate(ts, usegmt=True).replace("GMT", "UTC")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def placeholders(n: int) -> str:
    return ",".join("?" * n)


def stream_rows(db_path: Path, sql: str, params: Iterable[Any] = (), batch: int = 1000) -> Iterator[sqlite3.Row]:
    """Iterate a query on a private read-only connection.

    Streaming responses are consumed from whatever worker thread Starlette picks,
    possibly long after the request began; a connection of their own keeps them
    off the per-thread connections used by other requests. WAL lets writers go on.
    """
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        cur = conn.execute(sql, tuple(params))
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            yield from rows
    finally:
        conn.close()
