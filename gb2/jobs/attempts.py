"""Every run of one job of a project, across the jobs that replaced it, with each run's logs.

A job runs again in two ways. DIRAC's reschedule keeps the job id and starts a new
attempt (its status history splits there, :mod:`gb2.jobs.history`). A retry with
overrides (:mod:`gb2.jobs.replace`) cannot change a job, so gb2 submits a
replacement in the same project and deletes the old job; the replacement's
``JobName`` is the original's with ``_r<k>`` added (``proj_00007``, ``proj_00007_r1``,
``proj_00007_r2``...). The jobs of one name are the job's *chain*; its attempts are
numbered from 1, oldest first, over the whole chain.

Each attempt leaves one output sandbox with its logs; the job wrapper writes
``job.info`` (with the ``RescheduleCounter``) into every one, which is how a
sandbox is matched to its attempt. Nothing here reads more than one chain.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb2.client.diracx import DiracX
from gb2.errors import BadInput, NotFound
from gb2.jobs.history import Attempt, StatusRecord, attempts, records
from gb2.jobs.sandbox import extract_archive

#: ``<name>_r<k>``: the k-th replacement of the job named ``<name>``.
_REPLACEMENT_RE = re.compile(r"^(?P<base>.+)_r(?P<k>\d+)$")
_STARTED = frozenset({"Matched", "Running", "Completing", "Done", "Completed", "Stalled"})


def chain_position(name: str) -> tuple[str, int]:
    """(the original job's name, how many replacements deep): ``p_00007_r2`` -> (``p_00007``, 2)."""
    m = _REPLACEMENT_RE.match(name or "")
    return (m["base"], int(m["k"])) if m else (name, 0)


def replacement_name(name: str) -> str:
    """The name of the job that replaces the job ``name``."""
    base, k = chain_position(name)
    return f"{base}_r{k + 1}"


@dataclass
class Run:
    """One attempt: a run of one job of the chain."""

    number: int  # 1 for the first run of the chain
    job_id: int
    reschedule: int  # the job's reschedule count during this run
    attempt: Attempt

    def as_json(self) -> dict[str, Any]:
        last = self.attempt.last
        return {"attempt": self.number, "job_id": self.job_id, "reschedule": self.reschedule,
                "started": self.attempt.started, "ended": self.attempt.ended,
                "status": last.status if last else None, "minor_status": last.minor_status if last else None}  # fmt: skip


@dataclass
class Chain:
    """The jobs of one name in a project, oldest first, and their runs."""

    base: str
    jobs: list[dict[str, Any]]  # search rows (JobID, JobName, Status, RescheduleCounter...)
    runs: list[Run] = field(default_factory=list)

    def run(self, number: int) -> Run:
        if not 1 <= number <= len(self.runs):
            raise BadInput(f"--attempt {number}: job {self.base} has {len(self.runs)} attempt(s) (1 to {len(self.runs)})")
        return self.runs[number - 1]


def chain_of(dx: DiracX, job: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the jobs sharing ``job``'s chain (its own included), oldest first: one search."""
    base, _ = chain_position(str(job.get("JobName") or ""))
    conditions = [{"parameter": "JobGroup", "operator": "eq", "value": job["JobGroup"]},
                  {"parameter": "JobName", "operator": "like", "value": f"{base}%"}]  # fmt: skip
    if job.get("Owner"):
        conditions.append({"parameter": "Owner", "operator": "eq", "value": job["Owner"]})
    rows = [r for r in dx.iter_search(["JobID", "JobName", "JobGroup", "Owner", "Status", "MinorStatus",
                                       "RescheduleCounter", "Site"], conditions)  # fmt: skip
            if chain_position(str(r["JobName"]))[0] == base]
    if not any(int(r["JobID"]) == int(job["JobID"]) for r in rows):
        rows.append(job)
    return sorted(rows, key=lambda r: (chain_position(str(r["JobName"]))[1], int(r["JobID"])))


def chain_runs(dx: DiracX, rows: list[dict[str, Any]], histories: dict[int, list[StatusRecord]] | None = None) -> list[Run]:
    """Every run of the chain's jobs, numbered from 1 (one history search for the chain).

    An attempt that never started and was followed by another (a reschedule of a job
    still waiting, or one that only read the JDL back, see :mod:`gb2.jobs.replace`) is
    not a run: it is left out. The chain's last attempt is always kept (it may be waiting).
    """
    if histories is None:
        histories = {j: records(h) for j, h in dx.status_history([int(r["JobID"]) for r in rows]).items()}
    parts = [(int(row["JobID"]), part) for row in rows for part in attempts(histories.get(int(row["JobID"]), []))]
    runs: list[Run] = []
    for position, (job_id, part) in enumerate(parts):
        started = any(r.status in _STARTED for r in part.records)
        if started or position == len(parts) - 1:
            runs.append(Run(len(runs) + 1, job_id, part.number, part))
    return runs


def chain(dx: DiracX, job: dict[str, Any]) -> Chain:
    rows = chain_of(dx, job)
    return Chain(chain_position(str(job.get("JobName") or ""))[0], rows, chain_runs(dx, rows))


def attempt_sandbox(dx: DiracX, run: Run, dest: Path) -> Path | None:
    """The output sandbox of one run, unpacked into ``dest``; None if that run left none.

    The job's sandboxes are tried newest first; each holds ``job.info`` with the reschedule
    count of its run. Without one, the position is used when there is one sandbox per run.
    """
    from gb2.jobs.output import SANDBOX_SE, place_sandbox

    pfns = dx.job_sandbox(run.job_id, "output")
    scratch = Path(tempfile.mkdtemp(prefix="gb2-attempt-"))
    try:
        for position in range(len(pfns) - 1, -1, -1):
            pfn = pfns[position]
            data = dx.download_sandbox(pfn if pfn.startswith("SB:") else SANDBOX_SE + pfn)
            folder = scratch / str(position)
            extract_archive(data, folder)
            counter = _reschedule_of(folder)
            if counter == run.reschedule or (counter is None and position == run.reschedule):
                return place_sandbox(folder, dest)
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _reschedule_of(folder: Path) -> int | None:
    try:
        info = json.loads((folder / "job.info").read_text())
        return int(info["RescheduleCounter"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def job_row(dx: DiracX, job_id: int) -> dict[str, Any]:
    rows = dx.search(["JobID", "JobName", "JobGroup", "Owner", "Status", "MinorStatus", "RescheduleCounter", "Site"],
                     [{"parameter": "JobID", "operator": "eq", "value": int(job_id)}]).rows  # fmt: skip
    if not rows:
        raise NotFound(f"job {job_id} not found")
    return rows[0]
