"""The logs of many failed jobs, each read once: digests fetched in parallel and kept locally.

DiracX has no bulk call for sandboxes: a job's logs take two requests (which sandbox,
then its presigned download) and a download. So the digests of the logs read
(:class:`gb2.jobs.signature.LogDigest`) are kept in a small SQLite file per server
under the cache folder, keyed by the job id, its reschedule count and its last update
time: as long as a failed job does not change, its logs are never asked for again, and
an analysis of thousands of failures costs only the jobs that are new. Jobs not in the
cache are read :data:`PARALLEL` at a time. A cache that cannot be used is only slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sqlite3
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gb2.client.diracx import DiracX
from gb2.errors import Gb2Error
from gb2.jobs.output import LOG_FILES, SANDBOX_SE
from gb2.jobs.signature import LogDigest, digest_logs
from gb2.workers import worker_pool

PARALLEL = 8
#: Bytes of one log read at most (its end: where a failure shows).
MAX_LOG_BYTES = 8 * 1024 * 1024
SCHEMA_VERSION = 1
#: The cache of a server not used for this long is removed.
KEEP_DAYS = 30
_NO_LOG = "null"


@dataclass(frozen=True)
class JobState:
    """What identifies one attempt's logs: they cannot change while these stay the same."""

    job_id: int
    reschedule: int
    last_update: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> JobState:
        return cls(int(row["JobID"]), int(row.get("RescheduleCounter") or 0), str(row.get("LastUpdateTime") or ""))


@dataclass
class ReadStats:
    cached: int = 0  # digests found in the cache
    read: int = 0  # sandboxes downloaded now
    missing: int = 0  # attempts that left no log
    unreadable: int = 0  # sandboxes that could not be fetched (not cached: tried again next time)

    def as_json(self) -> dict[str, int]:
        return {"cached": self.cached, "read": self.read, "missing": self.missing, "unreadable": self.unreadable}


class LogCache:
    """Digests by :class:`JobState`, for one server (job ids are per server)."""

    def __init__(self, server_url: str, folder: Path | None = None) -> None:
        from gb2.paths import cache_dir

        name = hashlib.sha256(server_url.rstrip("/").encode()).hexdigest()[:16]
        self.path = (folder or cache_dir() / "logs") / f"{name}.sqlite"
        self._conn: sqlite3.Connection | None = None
        self.usable = True

    def _db(self) -> sqlite3.Connection | None:
        if self._conn is not None or not self.usable:
            return self._conn
        try:
            from gb2.paths import private_dir

            private_dir(self.path.parent)  # logs may say private things: the owner's eyes only
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS digests (job INTEGER, reschedule INTEGER, updated TEXT, "
                         "version INTEGER, digest TEXT, PRIMARY KEY (job, reschedule, updated, version))")  # fmt: skip
            self.path.chmod(0o600)
            self._conn = conn
            self._forget_old()
        except (sqlite3.Error, OSError, Gb2Error):
            self.usable = False
        return self._conn

    def _forget_old(self) -> None:
        """Caches of servers not used for :data:`KEEP_DAYS` (an embedded server's old ports) go."""
        cutoff = time.time() - KEEP_DAYS * 86400
        for old in self.path.parent.glob("*.sqlite*"):
            with contextlib.suppress(OSError):
                if not old.name.startswith(self.path.name) and old.stat().st_mtime < cutoff:
                    old.unlink()

    def get(self, states: Iterable[JobState]) -> dict[JobState, LogDigest | None]:
        found: dict[JobState, LogDigest | None] = {}
        wanted = list(states)
        conn = self._db() if wanted else None  # nothing asked: no file made
        if conn is None:
            return found
        try:
            for start in range(0, len(wanted), 300):
                chunk = wanted[start : start + 300]
                by_job = {s.job_id: s for s in chunk}
                marks = ",".join("?" * len(by_job))
                for job, reschedule, updated, text in conn.execute(
                    f"SELECT job, reschedule, updated, digest FROM digests WHERE version=? AND job IN ({marks})",
                    (SCHEMA_VERSION, *by_job),
                ):
                    state = by_job.get(job)
                    if state is not None and (state.reschedule, state.last_update) == (reschedule, updated):
                        found[state] = None if text == _NO_LOG else LogDigest.from_json(json.loads(text))
        except (sqlite3.Error, ValueError):
            return {}
        return found

    def put(self, items: dict[JobState, LogDigest | None]) -> None:
        conn = self._db() if items else None
        if conn is None:
            return
        rows = [(s.job_id, s.reschedule, s.last_update, SCHEMA_VERSION,
                 _NO_LOG if d is None else json.dumps(d.as_json())) for s, d in items.items()]  # fmt: skip
        try:
            with conn:
                conn.executemany("DELETE FROM digests WHERE job=?", [(r[0],) for r in rows])  # older states of a job
                conn.executemany("INSERT OR REPLACE INTO digests VALUES (?,?,?,?,?)", rows)
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


def _members(data: bytes, names: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """The named regular files of a sandbox archive, read in memory (their last bytes)."""
    wanted = set(names)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar.getmembers():
            if member.name in wanted and member.isfile():
                f = tar.extractfile(member)
                if f is None:
                    continue
                if member.size > MAX_LOG_BYTES:
                    f.seek(member.size - MAX_LOG_BYTES)
                yield member.name, f.read(MAX_LOG_BYTES)


def read_digest(dx: DiracX, state: JobState) -> LogDigest | None:
    """The digest of the job's newest output sandbox, if it belongs to the current attempt."""
    pfns = dx.job_sandbox(state.job_id, "output")
    if not pfns:
        return None
    pfn = pfns[-1]
    data = dx.download_sandbox(pfn if pfn.startswith("SB:") else SANDBOX_SE + pfn)
    try:
        files = dict(_members(data, [*LOG_FILES, "job.info"]))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise Gb2Error(f"the sandbox of job {state.job_id} is not a valid archive: {exc}") from exc
    try:
        info = json.loads(files.pop("job.info", b"{}") or b"{}")
    except ValueError:
        info = {}
    texts = {name: files[name].decode(errors="replace") for name in LOG_FILES if files.get(name)}
    digest = digest_logs(texts, info if isinstance(info, dict) else {})
    if digest.reschedule is not None and digest.reschedule != state.reschedule:
        return None  # the newest logs are an earlier attempt's: this one left none
    return digest


def digests(dx: DiracX, rows: list[dict[str, Any]], cache: LogCache | None = None, *,
            parallel: int = PARALLEL) -> tuple[dict[int, LogDigest | None], ReadStats]:  # fmt: skip
    """Job id -> the digest of its current attempt's logs (None: it left none), for search rows
    with JobID, RescheduleCounter and LastUpdateTime."""
    states = {JobState.of(r): r for r in rows}
    stats = ReadStats()
    known = cache.get(states) if cache is not None else {}
    stats.cached = len(known)
    todo = [s for s in states if s not in known]
    fresh: dict[JobState, LogDigest | None] = {}

    def one(state: JobState) -> None:
        try:
            fresh[state] = read_digest(dx, state)
        except Gb2Error:
            pass  # not cached: tried again next time

    if todo:
        with worker_pool(min(parallel, len(todo))) as pool:
            list(pool.map(one, todo))
    stats.unreadable = len(todo) - len(fresh)
    stats.read = sum(1 for d in fresh.values() if d is not None)
    if cache is not None:
        cache.put(fresh)
    merged = {**known, **fresh}
    stats.missing = sum(1 for d in merged.values() if d is None)
    return {s.job_id: d for s, d in merged.items()}, stats
