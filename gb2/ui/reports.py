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

import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from gb2.errors import ExitCode, OperationFailed
from gb2.gc_tuning import collector_paused
from gb2.jobs.states import summary_bucket
from gb2.jobs.status import (
    JOB_PARAMETERS,
    Selection,
    all_done,
    all_final,
    check_named,
    find_scouts,
    iter_job_pages,
    iter_jobs,
    project_summaries,
    status_counts,
    summary_line_counts,
)
from gb2.ui.output import PlainTable, json_items, plain_table, print_json, print_json_listing


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
    if not selection.projects or selection.job_ids or selection.statuses:
        return None
    owner = selection.owner or session.username  # as scouting_views and project_scouting
    scouted = sorted(find_scouts(session, list(selection.projects), owner))
    if not scouted:
        return None
    from gb2.jobs.scouts import add_held, project_scouting
    views: dict[str, Any] = {}

    def adjust(counts: dict[str, int]) -> dict[str, int]:
        nonlocal views
        if not views or any(v.state == "scouting" for v in views.values()):
            views = project_scouting(session, scouted, owner)
            if any(v.released_now for v in views.values()):
                counts = status_counts(session.diracx, selection)  # with the jobs just released
        return add_held(counts, views)

    return adjust


def scouting_views(session: Any, selection: Selection) -> dict[str, Any]:
    """The scouted projects a -p selection names, brought up to date (held jobs released).
    Scouting's code is loaded only for a project that has scouts."""
    if not selection.projects or selection.job_ids:
        return {}
    owner = selection.owner or session.username
    scouts = find_scouts(session, list(selection.projects), owner)
    if not scouts:
        return {}
    from gb2.jobs.scouts import project_scouting

    return project_scouting(session, sorted(scouts), owner, scouts=scouts)


def print_views(views: dict[str, Any]) -> None:
    if not views:
        return
    from gb2.ui.scouting import view_lines

    for view in views.values():
        sys.stdout.write("\n".join(view_lines(view)) + "\n")


JOB_HEADERS = ("Job id", "Status", "MinorStatus", "ApplicationStatus", "Site")
JOB_HEADERS_PARAMS = ["Status", "MinorStatus", "ApplicationStatus", "Site"]


_STATUS = itemgetter("Status")


#: The --json key of each job parameter of a listing (in the order of JOB_PARAMETERS).
JOB_JSON_KEYS = {"JobID": "job_id", "Status": "status", "MinorStatus": "minor_status",
                 "ApplicationStatus": "application_status", "Site": "site", "JobGroup": "project",
                 "JobName": "job_name", "Owner": "owner", "SubmissionTime": "submission_time",
                 "LastUpdateTime": "last_update", "RescheduleCounter": "reschedule_count"}  # fmt: skip


def _json_page(page: Any, counted: Counter[str]) -> str:
    """A page of jobs as the items of the --json "jobs" list (see :func:`gb2.ui.output.json_items`),
    its statuses counted. A gb2 server sends the rows with their --json keys already
    (``Gb2-Row-Keys``): they pass through as they came when they are the very text
    :func:`json_items` would write (ASCII, without DEL, which Python's encoder escapes)."""
    raw = page.raw
    if raw is None:  # DiracX: the standard rows, renamed here
        counted.update(map(_STATUS, page.rows))
        return json_items(_jobs_json(page.rows))
    if page.status_counts is not None:
        counted.update(page.status_counts)
    if raw.isascii() and b"\x7f" not in raw:
        return raw[1:-1].decode("ascii")
    rows = json.loads(raw)
    if page.status_counts is None:
        counted.update(row["status"] for row in rows)
    return json_items(rows)


def _jobs_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs with their --json keys (a dict display per row: the fastest way for 100,000 jobs)."""
    return [{"job_id": r["JobID"], "status": r["Status"], "minor_status": r["MinorStatus"],
             "application_status": r["ApplicationStatus"], "site": r["Site"], "project": r["JobGroup"],
             "job_name": r["JobName"], "owner": r["Owner"], "submission_time": r["SubmissionTime"],
             "last_update": r["LastUpdateTime"], "reschedule_count": r["RescheduleCounter"]} for r in rows]  # fmt: skip


def job_status_report(
    session: Any, selection: Selection, *, wait: bool, interval: float, timeout: float | None, as_json: bool,
    following: Following | None = None,
) -> int:
    dx = session.diracx
    following = following or Following()
    if wait:
        following.start(session, selection, _what(selection))
    problem = _wait(session, selection, interval, timeout, as_json, following) if wait else None
    views = scouting_views(session, selection)  # first: a release adds jobs to the listing
    held = views if not selection.statuses else {}  # held jobs have no status to filter on
    out = sys.stdout
    counted: Counter[str] = Counter()

    def statuses() -> dict[str, int]:
        if not held:
            return dict(sorted(counted.items()))
        from gb2.jobs.scouts import add_held

        return dict(sorted(add_held(dict(counted), held).items()))

    # Each page is turned into output while the next ones are fetched (100,000 jobs are ten pages).
    if as_json:
        extra = {"scouting": {p: v.as_json() for p, v in views.items()}, **following.as_json()}
        if not out.isatty():
            with collector_paused():
                encoded = [_json_page(page, counted) for page in dx.iter_search_results(
                    JOB_PARAMETERS, selection.conditions(), keys=JOB_JSON_KEYS)]  # fmt: skip
            found = statuses()
            print_json_listing({"selected": counted.total()}, "jobs", encoded,
                               {"summary": summary_line_counts(found), "statuses": found, **extra}, out)  # fmt: skip
            return _end(problem)
        rows = list(iter_jobs(dx, selection))  # a terminal: indented, in one piece
        counted.update(map(_STATUS, rows))
        found = statuses()
        print_json({"selected": len(rows), "jobs": _jobs_json(rows), "summary": summary_line_counts(found),
                    "statuses": found, **extra})  # fmt: skip
        return _end(problem)
    table = PlainTable(JOB_HEADERS)
    # The table needs five columns; fetching only those halves the transfer for big projects.
    # A gb2 server sends them as columns (its extension): no object per job, nothing to transpose.
    wanted = ["JobID", *JOB_HEADERS_PARAMS]
    with collector_paused():
        for page in iter_job_pages(dx, selection, wanted, columns=True):
            if page.columns is not None:
                counted.update(page.status_counts or Counter(page.columns["Status"]))
                table.add_columns([page.columns[p] for p in wanted])
            else:
                counted.update(map(_STATUS, page.rows))
                table.add(map(itemgetter(*wanted), page.rows))
    found = statuses()
    summary = summary_line_counts(found)
    out.write(f"{len(table)} jobs are selected.\n")
    if len(table):
        table.write(out)
    out.write("--- Summary of Selected Jobs ---\n")
    out.write(" ".join(f"{k}:{v}" for k, v in summary.items()) + "\n")
    folded = [f"{s}:{n} (in {summary_bucket(s)})" for s, n in found.items() if summary_bucket(s) != s]
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
    dx = session.diracx
    selection = Selection(owner, projects=tuple(projects))
    check_named(dx, selection)  # a named project without jobs: exit 5 before anything else
    following = following or Following()
    if wait:
        following.start(session, selection, _what(selection))
    problem = _wait(session, selection, interval, timeout, as_json, following) if wait else None
    summaries = project_summaries(dx, owner, projects)
    # Every listed project that has scouts is brought up to date (its held jobs released).
    scouts = find_scouts(session, [s.project for s in summaries], owner or session.username) if summaries else {}
    views: dict[str, Any] = {}
    if scouts:  # scouting's code is loaded only when a listed project has scouts
        from gb2.jobs.scouts import add_held, project_scouting

        views = project_scouting(session, sorted(scouts), owner, scouts=scouts)
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
