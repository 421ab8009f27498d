"""One job's page: its record, its statuses with times, its attempts, the tail of its
newest log and, while it runs, what it is writing (where the library can peek).

The record and the history are one search each. The log tail is a sandbox
download, so it is kept until the job's status or last update changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gb2.errors import NotFound
from gb2.jobs.history import Attempt, StatusRecord, job_history
from gb2.jobs.output import newest_log_tail
from gb2.jobs.states import ACTIVE_STATES, FATAL_STATES
from gb2.jobs.status import JOB_PARAMETERS
from gb2.web import providers
from gb2.web.cache import VersionCache

EXTRA_PARAMETERS = ["StartExecTime", "EndExecTime", "HeartBeatTime", "RescheduleTime"]
LOG_LINES = 40


@dataclass
class JobView:
    job: dict[str, Any]
    history: list[StatusRecord]
    attempts: list[Attempt]
    log: tuple[str, list[str]] | None
    peek: list[str] | None

    @property
    def id(self) -> int:
        return int(self.job["JobID"])

    @property
    def running(self) -> bool:
        return self.job["Status"] in ACTIVE_STATES

    @property
    def failed(self) -> bool:
        return self.job["Status"] in FATAL_STATES

    @property
    def earlier(self) -> list[Attempt]:
        return self.attempts[:-1]


def job_view(session: Any, job_id: int, cache: VersionCache) -> JobView:
    dx = session.diracx
    rows = dx.search([*JOB_PARAMETERS, *EXTRA_PARAMETERS], [{"parameter": "JobID", "operator": "eq", "value": job_id}]).rows
    if not rows or (rows[0].get("Owner") and rows[0]["Owner"] != session.username):
        raise NotFound(f"job {job_id} not found (or not yours)")
    job = rows[0]
    history = job_history(dx, job_id)
    version = (job["Status"], job["LastUpdateTime"], job.get("RescheduleCounter"))
    log = cache.get("log", str(job_id), version, lambda: newest_log_tail(dx, job_id, LOG_LINES))
    return JobView(job, history, providers.job_attempts(session, job, history), log,
                   providers.job_peek(session, job) if job["Status"] in ACTIVE_STATES else None)  # fmt: skip
