"""The printed reports of the monitoring commands (gbasf2 layouts, and their JSON forms).

JSON keys (stable):

* gb2_job_status: ``{"selected": N, "jobs": [{"job_id", "status", "minor_status",
  "application_status", "site", "project", "job_name", "owner", "submission_time",
  "last_update", "reschedule_count"}], "summary": {<8 gbasf2 keys>: n}, "statuses": {<DIRAC status>: n}}``
* gb2_project_summary: ``{"projects": [{"project", "owner", "status", "jobs", "done",
  "failed", "running", "waiting", "counts", "submitted", "last_update", "duration"}]}``
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from gb2.errors import ExitCode, OperationFailed
from gb2.jobs.states import summary_bucket
from gb2.jobs.status import (
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


_STATUS = itemgetter("Status")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A listing of 100,000 jobs makes millions of objects and no reference cycles: the cyclic
    garbage collector would only walk them again and again (a tenth of the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _jobs_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs with their --json keys (a dict display per row: the fastest way for 100,000 jobs)."""
    return [{"job_id": r["JobID"], "status": r["Status"], "minor_status": r["MinorStatus"],
             "application_status": r["ApplicationStatus"], "site": r["Site"], "project": r["JobGroup"],
             "job_name": r["JobName"], "owner": r["Owner"], "submission_time": r["SubmissionTime"],
             "last_update": r["LastUpdateTime"], "reschedule_count": r["RescheduleCounter"]} for r in rows]  # fmt: skip


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
        with _collector_paused():
            for page in iter_job_pages(dx, selection):
                counted.update(map(_STATUS, page))
                encoded.append(json_items(_jobs_json(page)))
        statuses = dict(sorted(counted.items()))
        print_json_listing({"selected": counted.total()}, "jobs", encoded,
                           {"summary": summary_line_counts(statuses), "statuses": statuses}, out)  # fmt: skip
        return _end(problem)
    if as_json:  # a terminal: indented, in one piece
        rows = list(iter_jobs(dx, selection))
        statuses = dict(sorted(Counter(r["Status"] for r in rows).items()))
        print_json({"selected": len(rows), "jobs": _jobs_json(rows),
                    "summary": summary_line_counts(statuses), "statuses": statuses})  # fmt: skip
        return _end(problem)
    table = PlainTable(JOB_HEADERS)
    # The table needs five columns; fetching only those halves the transfer for big projects.
    with _collector_paused():
        for page in iter_job_pages(dx, selection, ["JobID", *JOB_HEADERS_PARAMS]):
            counted.update(map(_STATUS, page))
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
