"""The job wrapper's own reports, made inside the server that runs the engine.

The engine lives in the embedded server's process, so the reports of its job wrappers
(status updates, heartbeats, the output sandbox and its assignment, the payload's
ApplicationStatus) go straight to the job database and the sandbox store, through
the same :class:`~gb2.server.diracx.jobdb.JobDB` and
:class:`~gb2.server.diracx.routes.sandbox.SandboxStore` methods the HTTP routes call:
the same state machine, the same records. Over HTTP to its own process, each report
cost the server's one interpreter a request to send and one to serve (some 2-3 ms of
CPU); five per job made most of the engine's overhead. The payload itself still talks
to the server over HTTP with the token minted for it, as on a worker node.

All reports run on one thread of their own: one database connection serves every job
(a connection opened by each runner thread would stay open for ever), and the reports
of all runners are applied one at a time, in the order they were made.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from gb2.errors import OperationFailed

if TYPE_CHECKING:
    from gb2.server.diracx.jobdb import JobDB
    from gb2.server.diracx.routes.sandbox import Owner, SandboxStore
    from gb2.server.state import ServerState

T = TypeVar("T")


class BookkeepingFailed(OperationFailed):
    """A report could not be recorded (the database or the sandbox store refused it)."""


class Bookkeeping:
    """What a job wrapper records about its job, in this process."""

    def __init__(self, state: ServerState) -> None:
        self.jobs: JobDB = state.services["jobs"]
        self.sandboxes: SandboxStore | None = state.services.get("sandboxes")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gb2-bookkeeping")

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return self._thread.submit(fn, *args).result()
        except Exception as exc:  # the database's or the store's refusal, or a stopped engine
            raise BookkeepingFailed(f"{type(exc).__name__}: {exc}") from exc

    def set_status(self, job_id: int, updates: dict[str, dict[str, str]]) -> None:
        """Timestamped updates of one job (DiracX's set_job_statuses body for it)."""
        self._call(self.jobs.set_statuses, {job_id: updates})

    def heartbeat(self, job_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
        """A heartbeat with its job parameters; the commands waiting for the job (Kill)."""
        return self._call(self.jobs.heartbeat, {job_id: data})

    def application_status(self, job_id: int) -> str | None:
        """The job's ApplicationStatus now (the payload may have set its own)."""
        rows = self._call(self.jobs.db.execute, "SELECT ApplicationStatus FROM jobs WHERE JobID=?", (job_id,))
        return rows[0][0] if rows else None

    def output_sandbox(self, job_id: int, owner: Owner, archive: bytes) -> str:
        """Store ``archive`` as the job's output sandbox, owned by the job's owner; its PFN."""
        store = self.sandboxes
        if store is None:
            raise BookkeepingFailed("this server keeps no sandboxes")

        def put() -> str:
            pfn = store.put_archive(owner, archive)
            store.assign(job_id, pfn, "Output")
            return pfn

        return self._call(put)

    def close(self) -> None:
        """Finish the reports already made; later ones fail."""
        self._thread.shutdown(wait=True)
