"""The printed reports of the monitoring commands (gbasf2 layouts, and their JSON forms).

JSON keys (stable):

* gb2_job_status: ``{"selected": N, "jobs": [{"job_id", "status", "minor_status",
  "application_status", "site", "project", "job_name", "owner", "submission_time",
  "last_update", "reschedule_count"}], "summary": {<gbasf2's 8 keys and Scouting>: n},
  "statuses": {<DIRAC status>: n}, "scouting": {project: <scout view>}}``
* gb2_project_summary: ``{"projects": [{"project", "owner", "status", "jobs", "done",
  "failed", "running", "scouting", "waiting", "counts", "submitted", "last_update",
  "duration", "scouts": <scout view or null>}]}``
* both, with ``--wait --auto_reschedule N``: ``"auto_reschedule": {"limit", "decisions": [{"time",
  "job_id", "action", "cluster", "reason", "new_job_id"}], "stopped"}``; with ``--notify``:
  ``"notifications": [{"event", "text", "desktop", "webhook"}]``

A scout view (:meth:`gb2.jobs.scouts.ScoutView.as_json`) is ``{"project", "mode", "state",
"scouts", "held", "failed_scout", "report", "forecast", "sizing", "released_now", "notes"}``;
jobs gb2 holds until the scouts pass (on a DiracX without scouting) count in the summary as
Scouting, or as Failed once a scout failed.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
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
    status_counts,
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


def _wait(session: Any, selection: Selection, interval: float, timeout: float | None, quiet: bool,
          following: Following | None = None) -> str | None:  # fmt: skip
    """Follow the jobs until all are final; None if every one of them is Done, else why not
    (the report is printed first, then that reason ends the command with exit 1)."""
    from gb2.ui.live import wait_with_view

    following = following or Following()
    counts = wait_with_view(session.diracx, selection, interval=interval, timeout=timeout, quiet=quiet,
                            adjust=_held_jobs(session, selection), auto=following.auto,
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


def _held_jobs(session: Any, selection: Selection) -> Callable[[dict[str, int]], dict[str, int]] | None:
    """For --wait on scouted projects: count the jobs gb2 holds, and release them when the scouts pass."""
    from gb2.jobs.scouts import add_held, find_scouts, project_scouting

    if not selection.projects or selection.job_ids or selection.statuses:
        return None
    scouted = sorted(find_scouts(session, list(selection.projects), selection.owner))
    if not scouted:
        return None
    views: dict[str, Any] = {}

    def adjust(counts: dict[str, int]) -> dict[str, int]:
        nonlocal views
        if not views or any(v.state == "scouting" for v in views.values()):
            views = project_scouting(session, scouted, selection.owner)
            if any(v.released_now for v in views.values()):
                counts = status_counts(session.diracx, selection)  # with the jobs just released
        return add_held(counts, views)

    return adjust


def scouting_views(session: Any, selection: Selection) -> dict[str, Any]:
    """The scouted projects a -p selection names, brought up to date (held jobs released)."""
    from gb2.jobs.scouts import project_scouting

    if not selection.projects or selection.job_ids:
        return {}
    return project_scouting(session, list(selection.projects), selection.owner)


def print_views(views: dict[str, Any]) -> None:
    from gb2.ui.scouting import view_lines

    for view in views.values():
        sys.stdout.write("\n".join(view_lines(view)) + "\n")


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
    from gb2.jobs.scouts import add_held

    dx = session.diracx
    following = following or Following()
    if wait:
        following.start(session, selection, _what(selection))
    problem = _wait(session, selection, interval, timeout, as_json, following) if wait else None
    views = scouting_views(session, selection)  # first: a release adds jobs to the listing
    # The table needs five columns; fetching only those halves the transfer for big projects.
    rows = list(iter_jobs(dx, selection, None if as_json else ["JobID", *JOB_HEADERS_PARAMS]))
    held = views if not selection.statuses else {}  # held jobs have no status to filter on
    statuses = dict(sorted(add_held(dict(Counter(r["Status"] for r in rows)), held).items()))
    summary = summary_line_counts(statuses)
    if as_json:
        print_json({"selected": len(rows), "jobs": [_job_json(r) for r in rows], "summary": summary,
                    "statuses": statuses, "scouting": {p: v.as_json() for p, v in views.items()},
                    **following.as_json()})  # fmt: skip
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
    print_views(views)
    return _end(problem)


#: gbasf2's columns, and gb2's Scout (jobs waiting for their scouts) after Wait.
PROJECT_HEADERS = ("Project", "Owner", "Status", "Done", "Fail", "Run", "Wait", "Scout", "Submission Time(UTC)",
                   "Duration")


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
    from gb2.jobs.scouts import add_held, project_scouting

    dx = session.diracx
    selection = Selection(owner, projects=tuple(projects))
    check_named(dx, selection)  # a named project without jobs: exit 5 before anything else
    following = following or Following()
    if wait:
        following.start(session, selection, _what(selection))
    problem = _wait(session, selection, interval, timeout, as_json, following) if wait else None
    summaries = project_summaries(dx, owner, projects)
    # Every listed project that has scouts is brought up to date (its held jobs released).
    views = project_scouting(session, [s.project for s in summaries], owner) if summaries else {}
    if any(v.released_now for v in views.values()):
        summaries = project_summaries(dx, owner, projects)
    for s in summaries:
        if s.project in views:
            s.counts = add_held(s.counts, {s.project: views[s.project]})
    if as_json:
        print_json({"projects": [{**s.as_json(), "scouts": views[s.project].as_json() if s.project in views else None}
                                 for s in summaries], **following.as_json()})  # fmt: skip
        return _end(problem)
    if not summaries:
        print("No projects found (in the last 30 days).")
        return _end(problem)
    rows = []
    for s in summaries:
        j = s.as_json()
        submitted = (s.submitted or "")[:19].replace("T", " ")
        rows.append((s.project, s.owner, s.status, j["done"], j["failed"], j["running"], j["waiting"], j["scouting"],
                     submitted, s.duration))  # fmt: skip
    plain_table(PROJECT_HEADERS, rows)
    if projects:
        print_views(views)
    return _end(problem)
