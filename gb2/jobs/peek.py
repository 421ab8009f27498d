"""What a running job is writing now: the tail of its output that the job wrapper publishes.

As DIRAC's watchdog does, gb2's job wrapper sends the last lines the application wrote
with each heartbeat, as the job parameter ``StandardOutput`` (DiracX's heartbeat body
has the field). gb2's server gives job parameters back (the ``JobParameters`` search
pseudo-parameter); DiracX 0.7 stores them but has no route to read them, which is said
(:class:`gb2.errors.NotOffered`, exit 7). One search for the record, one for the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.errors import NotFound
from gb2.jobs.states import ACTIVE_STATES
from gb2.jobs.status import Selection, check_named

PEEK_PARAMETER = "StandardOutput"
RECORD = ["JobID", "JobName", "JobGroup", "Owner", "Status", "MinorStatus", "ApplicationStatus", "Site", "HeartBeatTime"]


@dataclass
class Peek:
    job: dict[str, Any]
    lines: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.job["Status"] in ACTIVE_STATES

    @property
    def note(self) -> str:
        job_id = self.job["JobID"]
        if self.running and self.lines:
            return f"the last lines job {job_id} wrote, as of its last heartbeat ({self.job.get('HeartBeatTime')})"
        if self.running:
            return f"job {job_id} has published no output yet: it does with each heartbeat once its application runs"
        if self.lines:
            return (f"job {job_id} is {self.job['Status']}: the last lines it published while running; "
                    f"its logs: gb2_job_output -j {job_id}")  # fmt: skip
        return f"job {job_id} is {self.job['Status']}, not running: its logs, once it ended: gb2_job_output -j {job_id}"

    def as_json(self) -> dict[str, Any]:
        return {"job_id": self.job["JobID"], "status": self.job["Status"], "minor_status": self.job["MinorStatus"],
                "site": self.job["Site"], "heartbeat": self.job.get("HeartBeatTime"), "running": self.running,
                "lines": self.lines, "note": self.note}  # fmt: skip


def job_record(session: Any, job_id: int, parameters: list[str]) -> dict[str, Any]:
    """One job's search row; not found (5) or another user's (4) is said before anything else."""
    dx = session.diracx
    check_named(dx, Selection(session.username, job_ids=(int(job_id),)))
    rows = dx.search(parameters, [{"parameter": "JobID", "operator": "eq", "value": int(job_id)}]).rows
    if not rows:
        raise NotFound(f"job {job_id} not found")
    return rows[0]


def peek(session: Any, job_id: int) -> Peek:
    job = job_record(session, job_id, RECORD)
    text = session.diracx.job_parameters([int(job_id)]).get(int(job_id), {}).get(PEEK_PARAMETER) or ""
    return Peek(job, text.splitlines())
