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
    JOB_PARAMETERS,
    Selection,
    all_done,
    all_final,
    check_named,
    iter_job_pages,
    iter_jobs,
    project_summaries,
    summary_line_counts,
)
from gb2.ui.output import PlainTable, json_items, plain_table, print_json, print_json_listing


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


#: The --json keys of a job, for the search parameters in gb2.jobs.status.JOB_PARAMETERS' order.
JOB_JSON_KEYS = ("job_id", "status", "minor_status", "application_status", "site", "project", "job_name",
                 "owner", "submission_time", "last_update", "reschedule_count")  # fmt: skip
_JOB_ROW = itemgetter(*JOB_PARAMETERS)


def _job_json(row: dict[str, Any]) -> dict[str, Any]:
    return dict(zip(JOB_JSON_KEYS, _JOB_ROW(row), strict=True))


def _jobs_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of jobs with their --json keys (the renaming done in C, row by row)."""
    return [dict(zip(JOB_JSON_KEYS, values, strict=True)) for values in map(_JOB_ROW, rows)]


def job_status_report(
    session: Any, selection: Selection, *, wait: bool, interval: float, timeout: float | None, as_json: bool
) -> int:
    dx = session.diracx
    problem = _wait(dx, selection, interval, timeout, as_json) if wait else None
    out = sys.stdout
    counted: Counter[str] = Counter()
    # Each page is turned into output while the next ones are fetched (100,000 jobs are ten pages).
    if as_json and not out.isatty():
        encoded = []
        for page in iter_job_pages(dx, selection):
            counted.update(r["Status"] for r in page)
            encoded.append(json_items(_jobs_json(page)))
        statuses = dict(sorted(counted.items()))
        print_json_listing({"selected": counted.total()}, "jobs", encoded,
                           {"summary": summary_line_counts(statuses), "statuses": statuses}, out)  # fmt: skip
        return _end(problem)
    if as_json:  # a terminal: indented, in one piece
        rows = list(iter_jobs(dx, selection))
        statuses = dict(sorted(Counter(r["Status"] for r in rows).items()))
        print_json({"selected": len(rows), "jobs": [_job_json(r) for r in rows],
                    "summary": summary_line_counts(statuses), "statuses": statuses})  # fmt: skip
        return _end(problem)
    table = PlainTable(JOB_HEADERS)
    # The table needs five columns; fetching only those halves the transfer for big projects.
    for page in iter_job_pages(dx, selection, ["JobID", *JOB_HEADERS_PARAMS]):
        counted.update(r["Status"] for r in page)
        table.add(map(itemgetter("JobID", *JOB_HEADERS_PARAMS), page))
    statuses = dict(sorted(counted.items()))
    summary = summary_line_counts(statuses)
    out.write(f"{len(table)} jobs are selected.\n")
    if len(table):
        table.write(out)
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
