"""The printed reports of the monitoring commands (gbasf2 layouts, and their JSON forms).

JSON keys (stable):

* gb2_job_status: ``{"selected": N, "jobs": [{"job_id", "status", "minor_status",
  "application_status", "site", "project", "job_name", "owner", "submission_time",
  "last_update", "reschedule_count"}], "summary": {<8 gbasf2 keys>: n}, "statuses": {<DIRAC status>: n}}``
* gb2_project_summary: ``{"projects": [{"project", "owner", "status", "jobs", "done",
  "failed", "running", "waiting", "counts", "submitted", "last_update", "duration"}]}``
* both, with ``--wait --auto_reschedule N``: ``"auto_reschedule": {"limit", "decisions": [{"time",
  "job_id", "action", "cluster", "reason", "new_job_id"}], "stopped"}``; with ``--notify``:
  ``"notifications": [{"event", "text", "desktop", "webhook"}]``
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from gb2.errors import ExitCode, OperationFailed
from gb2.jobs.states import summary_bucket
from gb2.jobs.status import (
    Selection,
    all_done,
    all_final,
    check_named,
    iter_jobs,
    project_summaries,
    summary_line_counts,
)
from gb2.ui.output import plain_table, print_json


@dataclass
class Following:
    """What ``--wait`` does besides following: automatic retries and notifications."""

    auto_reschedule: int | None = None  # --auto_reschedule N
    notify: bool = False  # --notify
    tool: str = "gb2"  # for warnings: "<tool>: warning: ..."
    auto: Any = None
    notifier: Any = None

    def start(self, session: Any, selection: Selection, what: str) -> None:
        if self.auto_reschedule is not None:
            from gb2.jobs.autoretry import AutoRetry

            self.auto = AutoRetry(session, selection, self.auto_reschedule)
        if self.notify:
            from gb2.jobs.notify import notifier_for

            self.notifier = notifier_for(session, what, self.warn)

    def warn(self, message: str) -> None:
        print(f"{self.tool}: warning: {message}", file=sys.stderr, flush=True)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.auto is not None:
            out["auto_reschedule"] = self.auto.as_json()
        if self.notifier is not None:
            out["notifications"] = self.notifier.sent
        return out


def _wait(dx: Any, selection: Selection, interval: float, timeout: float | None, quiet: bool,
          following: Following | None = None) -> str | None:  # fmt: skip
    """Follow the jobs until all are final; None if every one of them is Done, else why not
    (the report is printed first, then that reason ends the command with exit 1)."""
    from gb2.ui.live import wait_with_view

    following = following or Following()
    counts = wait_with_view(dx, selection, interval=interval, timeout=timeout, quiet=quiet, auto=following.auto,
                            notifier=following.notifier)  # fmt: skip
    if following.notifier is not None:
        following.notifier.ended(counts, timed_out=not all_final(counts))
    if all_done(counts):
        return None
    if not counts:
        return "no job selected, so not every job is Done"
    others = ", ".join(f"{s}:{n}" for s, n in sorted(counts.items()) if s != "Done" and n)
    when = "" if all_final(counts) else f" after --timeout {timeout:g} s"
    stopped = following.auto.stopped if following.auto is not None else None
    return f"not every job is Done{when} ({others})" + (f"; automatic retries stopped: {stopped}" if stopped else "")


def _what(selection: Selection) -> str:
    if selection.projects:
        return ("project " if len(selection.projects) == 1 else "projects ") + ", ".join(selection.projects)
    if selection.job_ids:
        return f"{len(selection.job_ids)} job(s)"
    return "your jobs"


def _end(problem: str | None) -> int:
    if problem:
        raise OperationFailed(problem)
    return ExitCode.OK


JOB_HEADERS = ("Job id", "Status", "MinorStatus", "ApplicationStatus", "Site")
JOB_HEADERS_PARAMS = ["Status", "MinorStatus", "ApplicationStatus", "Site"]


def _job_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_id": row["JobID"],
        "status": row["Status"],
        "minor_status": row["MinorStatus"],
        "application_status": row["ApplicationStatus"],
        "site": row["Site"],
        "project": row["JobGroup"],
        "job_name": row["JobName"],
        "owner": row["Owner"],
        "submission_time": row["SubmissionTime"],
        "last_update": row["LastUpdateTime"],
        "reschedule_count": row["RescheduleCounter"],
    }


def job_status_report(
    session: Any, selection: Selection, *, wait: bool, interval: float, timeout: float | None, as_json: bool,
    following: Following | None = None,
) -> int:
    dx = session.diracx
    following = following or Following()
    if wait:
        following.start(session, selection, _what(selection))
    problem = _wait(dx, selection, interval, timeout, as_json, following) if wait else None
    # The table needs five columns; fetching only those halves the transfer for big projects.
    rows = list(iter_jobs(dx, selection, None if as_json else ["JobID", *JOB_HEADERS_PARAMS]))
    statuses = dict(sorted(Counter(r["Status"] for r in rows).items()))
    summary = summary_line_counts(statuses)
    if as_json:
        print_json({"selected": len(rows), "jobs": [_job_json(r) for r in rows], "summary": summary,
                    "statuses": statuses, **following.as_json()})  # fmt: skip
        return _end(problem)
    out = sys.stdout
    out.write(f"{len(rows)} jobs are selected.\n")
    if rows:
        plain_table(
            JOB_HEADERS,
            ((r["JobID"], r["Status"], r["MinorStatus"], r["ApplicationStatus"], r["Site"]) for r in rows),
            stream=out,
        )
    out.write("--- Summary of Selected Jobs ---\n")
    out.write(" ".join(f"{k}:{v}" for k, v in summary.items()) + "\n")
    folded = [f"{s}:{n} (in {summary_bucket(s)})" for s, n in statuses.items() if summary_bucket(s) != s]
    if folded:  # gbasf2's eight keys stay as they are; the statuses they fold in are named
        out.write("Also: " + " ".join(folded) + "\n")
    return _end(problem)


PROJECT_HEADERS = ("Project", "Owner", "Status", "Done", "Fail", "Run", "Wait", "Submission Time(UTC)", "Duration")


def project_summary_report(
    session: Any,
    owner: str,
    projects: list[str],
    *,
    wait: bool,
    interval: float,
    timeout: float | None,
    as_json: bool,
    following: Following | None = None,
) -> int:
    dx = session.diracx
    selection = Selection(owner, projects=tuple(projects))
    check_named(dx, selection)  # a named project without jobs: exit 5 before anything else
    following = following or Following()
    if wait:
        following.start(session, selection, _what(selection))
    problem = _wait(dx, selection, interval, timeout, as_json, following) if wait else None
    summaries = project_summaries(dx, owner, projects)
    if as_json:
        print_json({"projects": [s.as_json() for s in summaries], **following.as_json()})
        return _end(problem)
    if not summaries:
        print("No projects found (in the last 30 days).")
        return _end(problem)
    rows = []
    for s in summaries:
        j = s.as_json()
        submitted = (s.submitted or "")[:19].replace("T", " ")
        rows.append((s.project, s.owner, s.status, j["done"], j["failed"], j["running"], j["waiting"], submitted, s.duration))
    plain_table(PROJECT_HEADERS, rows)
    return _end(problem)
