"""What gb2_diagnostic does: check the set-up, and explain why a job failed.

The set-up check walks what every command needs, in the order it needs it: the
profile, the DiracX server, the login, an authorised call, Rucio, the clock (tokens
expire by the clock) and basf2 for local tests. Each check says OK, WARN or FAIL
with the detail a support request would ask for.

A failed job is explained from its record and the tail of its newest log, and
classified into the cause a user can act on: the analysis itself, the input data,
the CPU time asked for, a lost worker, or a kill.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from gb2.client.http import Response, probe
from gb2.errors import Gb2Error, NotFound, ServerUnreachable
from gb2.jobs.states import FATAL_STATES, Minor, failed_scout_of
from gb2.jobs.status import Selection, check_named

OK, WARN, FAIL = "OK", "WARN", "FAIL"
TAIL_LINES = 15
MAX_CLOCK_SKEW = 60.0  # seconds; more and tokens look expired or not yet valid


@dataclass
class Check:
    name: str
    status: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def _clock_skew(response: Response) -> float | None:
    date = response.headers.get("date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def check_setup(profile: str | None) -> list[Check]:
    """Every check that applies; a failed check stops those that depend on it."""
    from gb2.config import Config
    from gb2.login import hhmmss, proxy_info
    from gb2.session import Session

    checks: list[Check] = []
    try:
        chosen = Config.load().profile(profile)
    except Gb2Error as exc:
        return [Check("profile", FAIL, str(exc))]
    where = "the embedded grid on this machine" if chosen.embedded else f"{chosen.diracx_url} and {chosen.rucio_url}"
    checks.append(Check("profile", OK, f"{chosen.name}: {where}"))
    try:
        session = Session.open(chosen)
    except Gb2Error as exc:
        return [*checks, Check("server", FAIL, str(exc))]
    start = time.perf_counter()
    try:
        response = probe(f"{session.diracx_url}/.well-known/openid-configuration", timeout=15)
    except ServerUnreachable as exc:
        return [*checks, Check("DiracX", FAIL, f"{session.diracx_url} cannot be reached: {exc}")]
    if response.status_code >= 400:
        return [*checks, Check("DiracX", FAIL, f"{session.diracx_url} cannot be reached: HTTP {response.status_code} "
                                               f"{response.reason_phrase}")]  # fmt: skip
    checks.append(Check("DiracX", OK, f"{session.diracx_url} answers in {(time.perf_counter() - start) * 1000:.0f} ms"))
    skew = _clock_skew(response)
    if skew is not None:
        status = OK if abs(skew) <= MAX_CLOCK_SKEW else WARN
        checks.append(Check("clock", status, f"{abs(skew):.0f} s {'behind' if skew > 0 else 'ahead of'} the server"
                            + ("" if status == OK else ": fix this machine's clock (tokens expire by it)")))  # fmt: skip
    info = proxy_info(session)
    if info is None:
        return [*checks, Check("login", FAIL, "not logged in: run gb2_proxy_init")]
    if info.seconds_left <= 0:
        return [*checks, Check("login", FAIL, "your login has expired: run gb2_proxy_init")]
    status = OK if info.seconds_left > 3600 else WARN
    checks.append(Check("login", status, f"{info.username}, group {info.group}, time left {hhmmss(info.seconds_left)}"))
    try:
        who = session.diracx.userinfo()
        checks.append(Check("DiracX access", OK, f"authorised as {who.get('preferred_username', info.username)}"))
    except Gb2Error as exc:
        checks.append(Check("DiracX access", FAIL, str(exc)))
    try:
        account = session.rucio.whoami().get("account", "?")
        checks.append(Check("Rucio", OK, f"{session.rucio_url}: account {account}"))
    except Gb2Error as exc:
        checks.append(Check("Rucio", FAIL, str(exc)))
    basf2 = shutil.which("basf2")
    checks.append(Check("basf2", OK, f"{basf2} (local tests run the real basf2)" if basf2 else
                        "not on PATH: local tests use gb2's basf2 stand-in"))  # fmt: skip
    return checks


@dataclass
class FailedJob:
    job: dict[str, Any]
    cause: str
    advice: str
    log_name: str | None = None
    log_tail: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"job": self.job, "cause": self.cause, "advice": self.advice,
                "log_file": self.log_name, "log_tail": self.log_tail}  # fmt: skip


def classify(status: str, minor: str, application: str) -> tuple[str, str]:
    """(cause, advice) from what the job record says."""
    text = f"{minor} {application}".lower()
    if status == "Killed":
        return "killed", "the job was killed (by you or an administrator); gb2_job_reschedule runs it again"
    scout = failed_scout_of(minor)
    if scout is not None:
        return "scout failed", (f"this job never ran: its project's scout job {scout} failed, and the log below is "
                                "the scout's; fix the cause and submit a new project (or reschedule the project "
                                "once the cause is gone: the jobs wait for the scouts again)")  # fmt: skip
    if minor == Minor.MAX_RESCHEDULING:
        return "too many reschedules", "it failed every time: read its log, fix the cause, submit a new project"
    if "cpu limit" in text or "wall clock" in text or "cpu time" in text:
        return "CPU time", "the job needed more CPU time than it asked for: raise --cputime or --evtpersec, or use fewer files per job (-n)"
    if "input data" in text or "replica" in text:
        return "input data", "its input files could not be resolved or fetched: check them with gb2_ds_list -lg, then gb2_job_reschedule"
    if status == "Stalled" or "stalled" in text or "pilot" in text:
        return "lost worker", "the worker running it stopped answering; nothing points at your code: gb2_job_reschedule"
    if minor in (Minor.APP_ERRORS, Minor.APP_NOT_FOUND, Minor.EXCEPTION_DURING_EXECUTION) or "basf2 failed" in text:
        return "analysis", "basf2 itself failed: the log below says why; rescheduling runs the same code again, so fix the steering file and submit a new project"
    if "sandbox" in text or "upload" in text:
        return "grid transfer", "a transfer of the job's files failed: gb2_job_reschedule"
    return "unknown", "read the log below; gb2_job_reschedule runs it again"


def explain_failed_job(session: Any, job_id: int) -> FailedJob:
    from gb2.jobs.output import newest_log_tail

    dx = session.diracx
    check_named(dx, Selection(session.username, job_ids=(int(job_id),)))  # 5 if none, 4 if another user's
    rows = dx.search(["JobID", "Status", "MinorStatus", "ApplicationStatus", "Site", "JobGroup", "JobName",
                      "RescheduleCounter", "LastUpdateTime"],  # fmt: skip
                     [{"parameter": "JobID", "operator": "eq", "value": int(job_id)}]).rows
    if not rows:
        raise NotFound(f"job {job_id} not found (or not yours)")
    job = rows[0]
    if job["Status"] not in FATAL_STATES:
        cause, advice = "not failed", f"the job is {job['Status']} ({job['MinorStatus']}), not Failed, Killed or Stalled"
    else:
        cause, advice = classify(job["Status"], job["MinorStatus"] or "", job["ApplicationStatus"] or "")
    result = FailedJob(job, cause, advice)
    # A job failed by its scouts has no log of its own: the scout's log tells why.
    log_of = failed_scout_of(job["MinorStatus"]) if job["Status"] in FATAL_STATES else None
    tail = newest_log_tail(dx, log_of or int(job_id), TAIL_LINES)
    if tail is not None:
        name, result.log_tail = tail
        result.log_name = f"{name} of scout job {log_of}" if log_of else name
    return result
