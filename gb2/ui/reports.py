"""The printed reports of the monitoring commands (gbasf2 layouts, and their JSON forms).

JSON keys (stable):

* gb2_job_status: ``{"selected": N, "jobs": [{"job_id", "status", "minor_status",
  "application_status", "site", "project", "job_name", "owner", "submission_time",
  "last_update", "reschedule_count"}], "summary": {<8 gbasf2 keys>: n}, "statuses": {<DIRAC status>: n}}``
* gb2_project_summary: ``{"projects": [{"project", "owner", "status", "jobs", "done",
  "failed", "running", "waiting", "counts", "submitted", "last_update", "duration"}]}``
"""

from __future__ import annotations

import sys
from collections import Counter
from operator import itemgetter
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


def _wait(dx: Any, selection: Selection, interval: float, timeout: float | None, quiet: bool) -> str | None:
    """Follow the jobs until all are final; None if every one of them is Done, else why not
    (the report is printed first, then that reason ends the command with exit 1)."""
    from gb2.ui.live import wait_with_view

    counts = wait_with_view(dx, selection, interval=interval, timeout=timeout, quiet=quiet)
    if all_done(counts):
        return None
    if not counts:
        return "no job selected, so not every job is Done"
    others = ", ".join(f"{s}:{n}" for s, n in sorted(counts.items()) if s != "Done" and n)
    when = "" if all_final(counts) else f" after --timeout {timeout:g} s"
    return f"not every job is Done{when} ({others})"


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
    session: Any, selection: Selection, *, wait: bool, interval: float, timeout: float | None, as_json: bool
) -> int:
    dx = session.diracx
    problem = _wait(dx, selection, interval, timeout, as_json) if wait else None
    # The table needs five columns; fetching only those halves the transfer for big projects.
    rows = list(iter_jobs(dx, selection, None if as_json else ["JobID", *JOB_HEADERS_PARAMS]))
    statuses = dict(sorted(Counter(r["Status"] for r in rows).items()))
    summary = summary_line_counts(statuses)
    if as_json:
        print_json({"selected": len(rows), "jobs": [_job_json(r) for r in rows], "summary": summary,
                    "statuses": statuses})  # fmt: skip
        return _end(problem)
    out = sys.stdout
    out.write(f"{len(rows)} jobs are selected.\n")
    if rows:
        plain_table(JOB_HEADERS, map(itemgetter("JobID", *JOB_HEADERS_PARAMS), rows), stream=out)
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
) -> int:
    dx = session.diracx
    selection = Selection(owner, projects=tuple(projects))
    check_named(dx, selection)  # a named project without jobs: exit 5 before anything else
    problem = _wait(dx, selection, interval, timeout, as_json) if wait else None
    summaries = project_summaries(dx, owner, projects)
    if as_json:
        print_json({"projects": [s.as_json() for s in summaries]})
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
