"""Everything the grid records about one job: its attributes, its JDL, its parameters and
its status history with times (what gb2_job_info shows).

The attributes and the history are DiracX's search (``LoggingInfo``); the JDL and the
parameters are the ``JDL`` and ``JobParameters`` pseudo-parameters gb2's server answers.
DiracX 0.7 cannot give either back: the record then says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.errors import NotOffered
from gb2.jobs.attempts import chain_of, chain_runs
from gb2.jobs.history import StatusRecord, records
from gb2.jobs.peek import job_record

ATTRIBUTES = ["JobID", "JobName", "JobGroup", "JobType", "Owner", "OwnerGroup", "VO", "Site", "Status", "MinorStatus",
              "ApplicationStatus", "UserPriority", "RescheduleCounter", "SubmissionTime", "RescheduleTime",
              "StartExecTime", "HeartBeatTime", "EndExecTime", "LastUpdateTime"]  # fmt: skip


@dataclass
class JobRecord:
    attributes: dict[str, Any]
    history: list[StatusRecord]
    jdl: str | None = None
    parameters: dict[str, str] | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"job": self.attributes, "jdl": self.jdl, "parameters": self.parameters,
                "history": [{"status": h.status, "minor_status": h.minor_status,
                             "application_status": h.application_status, "time": h.time, "source": h.source}
                            for h in self.history],
                "attempts": self.attempts, "notes": self.notes}  # fmt: skip


def job_info(session: Any, job_id: int) -> JobRecord:
    dx = session.diracx
    raw = job_record(session, job_id, [*ATTRIBUTES, "LoggingInfo"])
    history = records(raw.pop("LoggingInfo", None) or [])
    record = JobRecord(raw, history)
    try:
        record.jdl = dx.job_jdls([job_id]).get(int(job_id))
    except NotOffered as exc:
        record.notes.append(f"JDL: {exc}")
    try:
        record.parameters = dx.job_parameters([job_id]).get(int(job_id), {})
    except NotOffered as exc:
        record.notes.append(f"parameters: {exc}")
    rows = chain_of(dx, raw)
    if len(rows) > 1 or int(raw.get("RescheduleCounter") or 0):
        histories = {int(job_id): history} if len(rows) == 1 else None
        record.attempts = [run.as_json() for run in chain_runs(dx, rows, histories)]
    return record
