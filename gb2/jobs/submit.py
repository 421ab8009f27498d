"""Bulk job submission that never duplicates a job, even when responses are lost.

DiracX has no idempotency key, so gb2 makes every job recognisable instead: each
job of a submission has a ``JobName`` unique within its ``JobGroup`` (the
project) and owner. Jobs go in batches of at most 20 (DiracX 0.7's per-call limit
for normal users), or of the larger size a server publishes in its configuration
(``Operations/<vo>/JobDescription/MaxJobsPerSubmission``: the embedded grid does;
DiracX 0.7's schema has no such key, so a real DiracX always gets 20). A batch is
one database transaction, so it is either fully in or not at all.

* If a batch's response is lost (timeout, dropped connection, 5xx), gb2 asks the
  server which of the batch's names exist, and submits only the missing ones
  (within the shared retry budget of :func:`gb2.client.http.retrying`).
* After the last batch, one search lists the submission's jobs; a name found twice
  (a retry racing a slow server) keeps its lowest JobID and the extra copies are
  killed and deleted before they can run twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gb2.client.diracx import DiracX, operations_values
from gb2.client.http import answer_lost, retrying
from gb2.client.tokens import claims
from gb2.errors import Gb2Error, OperationFailed, ServerUnreachable
from gb2.workers import worker_pool

#: DiracX 0.7's limit of jobs per submission call for a normal user.
BATCH_SIZE = 20
#: Where in ``Operations/<vo>`` (or ``Operations/Defaults``) a server publishes a larger limit.
LIMIT_PATH = ("JobDescription", "MaxJobsPerSubmission")
#: The largest batch gb2 sends whatever a server publishes (a request's size and time stay bounded).
MAX_BATCH = 5000


def published_batch_size(dx: DiracX) -> int:
    """The jobs one submission call may carry on this server: its published limit, else 20."""
    try:
        config = dx.config()
        vo = str(claims(dx.access_token()).get("vo") or "belle")
    except Gb2Error:
        return BATCH_SIZE
    for node in operations_values(config, vo, LIMIT_PATH):
        if isinstance(node, int) and not isinstance(node, bool) and node >= 1:
            return min(node, MAX_BATCH)
    return BATCH_SIZE


@dataclass
class SubmissionResult:
    job_ids: list[int]
    duplicates_removed: list[int] = field(default_factory=list)
    reconciled_batches: int = 0


class Submitter:
    """Submit many JDLs with unique names under one job group."""

    def __init__(self, dx: DiracX, owner: str, group: str, *, batch_size: int | None = None,
                 parallel: int = 4) -> None:  # fmt: skip
        """``batch_size``: jobs per call (None: what the server publishes, see :func:`published_batch_size`)."""
        self.dx = dx
        self.owner = owner
        self.group = group
        self.batch_size = batch_size
        self.parallel = max(1, parallel)
        self.reconciled = 0

    def existing(self, names: Sequence[str]) -> dict[str, list[int]]:
        """JobIDs already in the server for these names (more than one means a duplicate)."""
        found: dict[str, list[int]] = {}
        for row in self.dx.iter_search(
            ["JobID", "JobName"],
            [
                {"parameter": "JobGroup", "operator": "eq", "value": self.group},
                {"parameter": "Owner", "operator": "eq", "value": self.owner},
                {"parameter": "JobName", "operator": "in", "values": list(names)},
            ],
        ):
            found.setdefault(row["JobName"], []).append(int(row["JobID"]))
        return found

    def submit_batch(self, jdls: Sequence[str], names: Sequence[str]) -> list[int]:
        """One batch; on an ambiguous failure, reconcile by name before trying again."""
        pending = list(range(len(jdls)))
        ids: dict[int, int] = {}

        def attempt() -> None:
            nonlocal pending
            if not pending:
                return  # the reconciliation found every job of the batch
            inserted = self.dx.submit_jdl([jdls[i] for i in pending])
            if len(inserted) != len(pending):
                raise OperationFailed(f"DiracX inserted {len(inserted)} jobs for {len(pending)} JDLs")
            for i, job in zip(pending, inserted, strict=True):
                ids[i] = int(job["JobID"])
            pending = []

        def reconcile(exc: BaseException) -> None:
            nonlocal pending
            self.reconciled += 1
            try:
                present = self.existing([names[i] for i in pending])
            except ServerUnreachable:
                return  # still unreachable: reconcile before the next attempt
            for i in pending:
                if names[i] in present:
                    ids[i] = min(present[names[i]])
            pending = [i for i in pending if i not in ids]

        retrying("DiracX job submission", answer_lost, before_retry=reconcile)(attempt)
        if pending:  # the last attempt failed after a reconciliation that found all but these
            raise ServerUnreachable(f"{len(pending)} jobs of a batch could not be confirmed")
        return [ids[i] for i in range(len(jdls))]

    def submit(self, jdls: Sequence[str], names: Sequence[str],
               progress: Callable[[int], None] | None = None) -> SubmissionResult:  # fmt: skip
        if len(jdls) != len(names) or len(set(names)) != len(names):
            raise ValueError("every JDL needs a unique job name")
        if self.batch_size is None:
            self.batch_size = published_batch_size(self.dx)
        size = self.batch_size
        batches = [(i, min(i + size, len(jdls))) for i in range(0, len(jdls), size)]

        def run(span: tuple[int, int]) -> list[int]:
            got = self.submit_batch(jdls[span[0] : span[1]], names[span[0] : span[1]])
            if progress:
                progress(len(got))
            return got

        job_ids: list[int] = []
        with worker_pool(self.parallel) as pool:
            for got in pool.map(run, batches):
                job_ids.extend(got)
        removed = self.remove_duplicates(names, job_ids) if self.reconciled else []
        return SubmissionResult(job_ids, removed, self.reconciled)

    def remove_duplicates(self, names: Sequence[str], kept: list[int] | None = None) -> list[int]:
        """Kill and delete extra copies of a name (a retry that raced a slow server). Without
        ``kept``, each name keeps its lowest JobID: the same choice on every machine, so two
        clients that submitted the same jobs at once remove the same copies."""
        present = self.existing(names)
        keep = set(kept) if kept is not None else {min(ids) for ids in present.values()}
        extra = sorted(j for ids in present.values() if len(ids) > 1 for j in ids if j not in keep)
        if extra:
            self.dx.kill(extra)
            self.dx.delete(extra)
        return extra
