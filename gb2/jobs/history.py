"""A job's status history with times, and the attempts it is made of.

DiracX keeps one record per status update (the search's ``LoggingInfo``). DIRAC
writes ``idem`` where an update left a field unchanged; here every record carries
the values in force after it. A reschedule keeps the job id and starts a new
attempt: its record has the minor status "Job Rescheduled", so the history splits
into attempts there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.client.diracx import DiracX
from gb2.jobs.states import Minor

IDEM = "idem"


@dataclass(frozen=True)
class StatusRecord:
    status: str
    minor_status: str
    application_status: str
    time: str
    source: str


@dataclass
class Attempt:
    """One run of a job: from its submission or a reschedule to the next reschedule."""

    number: int  # 0 for the first run, then the reschedule count
    records: list[StatusRecord] = field(default_factory=list)
    #: The job that made this run, when runs of several jobs are listed (a job and its replacements).
    job_id: int | None = None

    @property
    def started(self) -> str | None:
        return self.records[0].time if self.records else None

    @property
    def ended(self) -> str | None:
        return self.records[-1].time if self.records else None

    @property
    def last(self) -> StatusRecord | None:
        return self.records[-1] if self.records else None


def records(raw: list[dict[str, Any]]) -> list[StatusRecord]:
    """DiracX's ``LoggingInfo`` rows as records, with ``idem`` replaced by the value in force."""
    out: list[StatusRecord] = []
    current = {"Status": "Unknown", "MinorStatus": "", "ApplicationStatus": "Unknown"}
    for row in raw:
        for key in current:
            value = row.get(key)
            if value is not None and value != IDEM:
                current[key] = str(value)
        out.append(StatusRecord(current["Status"], current["MinorStatus"], current["ApplicationStatus"],
                                str(row.get("StatusTime") or ""), str(row.get("Source") or "")))  # fmt: skip
    return out


def job_history(dx: DiracX, job_id: int) -> list[StatusRecord]:
    """A job's records, oldest first (empty if the job is not found or not yours)."""
    return records(dx.status_history([job_id]).get(int(job_id), []))


def attempts(history: list[StatusRecord]) -> list[Attempt]:
    """The history split at each reschedule; the last attempt is the current one."""
    runs = [Attempt(0)]
    for record in history:
        if record.minor_status == Minor.RESCHEDULED and runs[-1].records:
            runs.append(Attempt(len(runs)))
        runs[-1].records.append(record)
    return runs if runs[0].records else []
