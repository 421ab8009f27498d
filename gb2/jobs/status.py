"""Job and project status: selections, gbasf2's summaries, and waiting for the end.

Counts come from DiracX's server-side ``/api/jobs/summary`` (one call whatever the
project size); job listings stream through paged searches. Nothing here makes a
request per job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from gb2.client.diracx import DiracX, SearchPage
from gb2.errors import BadInput, Forbidden, NotFound
from gb2.jobs.states import ALL_STATES, DONE, FINAL_STATES, SCOUTING, SUMMARY_KEYS, summary_bucket

JOB_PARAMETERS = [
    "JobID", "Status", "MinorStatus", "ApplicationStatus", "Site", "JobGroup", "JobName",
    "Owner", "SubmissionTime", "LastUpdateTime", "RescheduleCounter",
]  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """Which jobs a command acts on (gbasf2's -p/-j/--status/--user)."""

    owner: str | None
    projects: tuple[str, ...] = ()
    job_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    since: datetime | None = None

    def conditions(self) -> list[dict[str, Any]]:
        search: list[dict[str, Any]] = []
        if self.owner:
            search.append({"parameter": "Owner", "operator": "eq", "value": self.owner})
        if self.projects:
            search.append({"parameter": "JobGroup", "operator": "in", "values": list(self.projects)})
        if self.job_ids:
            search.append({"parameter": "JobID", "operator": "in", "values": [int(j) for j in self.job_ids]})
        if self.statuses:
            search.append({"parameter": "Status", "operator": "in", "values": list(self.statuses)})
        if self.since is not None:
            stamp = self.since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            search.append({"parameter": "SubmissionTime", "operator": "gt", "value": stamp})
        return search


def iter_jobs(dx: DiracX, selection: Selection, parameters: list[str] | None = None) -> Iterator[dict[str, Any]]:
    return dx.iter_search(parameters or JOB_PARAMETERS, selection.conditions())


def iter_job_pages(dx: DiracX, selection: Selection, parameters: list[str] | None = None, *,
                   columns: bool = False) -> Iterator[SearchPage]:  # fmt: skip
    """:func:`iter_jobs` a page (up to 10,000 jobs) at a time; ``columns``: as columns where the
    server offers them (:meth:`gb2.client.diracx.DiracX.search`), else as rows."""
    return dx.iter_search_results(parameters or JOB_PARAMETERS, selection.conditions(), columns=columns)


def status_counts(dx: DiracX, selection: Selection) -> dict[str, int]:
    """Jobs per DIRAC status, aggregated by the server."""
    counts: dict[str, int] = {}
    for row in dx.summary(["Status"], selection.conditions()):
        counts[row["Status"]] = counts.get(row["Status"], 0) + int(row["count"])
    return counts


def counts_by(dx: DiracX, selection: Selection, field: str) -> dict[str, dict[str, int]]:
    """Jobs per value of ``field`` (e.g. ``Site``) and status, from one server-side summary."""
    table: dict[str, dict[str, int]] = {}
    for row in dx.summary([field, "Status"], selection.conditions()):
        per_status = table.setdefault(str(row.get(field) or "Unknown"), {})
        per_status[row["Status"]] = per_status.get(row["Status"], 0) + int(row["count"])
    return table


def summary_line_counts(statuses: dict[str, int] | Iterable[str]) -> dict[str, int]:
    """The summary line's keys: gbasf2's eight (Completed, Deleted, Done, Failed, Killed, Running, Stalled,
    Waiting) and Scouting."""
    out = dict.fromkeys(SUMMARY_KEYS, 0)
    items = statuses.items() if isinstance(statuses, dict) else ((s, 1) for s in statuses)
    for status, n in items:
        out[summary_bucket(status)] += n
    return out


def all_final(counts: dict[str, int]) -> bool:
    return all(status in FINAL_STATES for status, n in counts.items() if n)


def all_done(counts: dict[str, int]) -> bool:
    live = {s: n for s, n in counts.items() if n and s != "Deleted"}
    return bool(live) and set(live) == {DONE}


@dataclass
class ProjectSummary:
    project: str
    owner: str
    counts: dict[str, int]
    submitted: str | None = None
    last_update: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def status(self) -> str:
        """One word per project: Scouting while jobs wait for its scouts, Running while any job
        is not final, then Done or Failed."""
        if self.counts.get(SCOUTING):
            return "Scouting"
        if not all_final(self.counts):
            return "Running"
        return "Done" if all_done(self.counts) else "Failed"

    def column(self, *statuses: str) -> int:
        return sum(self.counts.get(s, 0) for s in statuses)

    @property
    def duration(self) -> str:
        if not self.submitted:
            return ""
        start = _parse(self.submitted)
        finished = self.status in ("Done", "Failed")
        end = _parse(self.last_update) if finished and self.last_update else datetime.now(timezone.utc)
        seconds = max(0, int((end - start).total_seconds()))
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "owner": self.owner,
            "status": self.status,
            "jobs": self.total,
            "done": self.column("Done"),
            "failed": self.column("Failed", "Killed", "Stalled"),
            "running": self.column("Running", "Completing"),
            "scouting": self.column(SCOUTING),
            "waiting": self.total - self.column("Done", "Failed", "Killed", "Stalled", "Running", "Completing",
                                                "Deleted", "Completed", SCOUTING),  # fmt: skip
            "counts": self.counts,
            "submitted": self.submitted,
            "last_update": self.last_update,
            "duration": self.duration,
        }


def _parse(stamp: str) -> datetime:
    dt = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def project_counts(dx: DiracX, owner: str, projects: Iterable[str] = (), days: int = 30) -> dict[str, dict[str, int]]:
    """Jobs per status of each project (the named ones, else those of the last ``days`` days),
    from one server-side summary grouped by JobGroup and Status."""
    names = tuple(projects)
    since = None if names else datetime.now(timezone.utc) - timedelta(days=days)
    selection = Selection(owner, projects=names, since=since)
    counts: dict[str, dict[str, int]] = {}
    for row in dx.summary(["JobGroup", "Status"], selection.conditions()):
        counts.setdefault(row["JobGroup"], {})[row["Status"]] = int(row["count"])
    return counts


def project_times(dx: DiracX, owner: str, projects: Iterable[str], *,
                  submitted: bool = True) -> dict[str, tuple[str | None, str | None]]:  # fmt: skip
    """(first submission, last update) of each project: a one-row search for each, in parallel
    (the first submission is left None with ``submitted=False``, which saves half the searches)."""

    def times(project: str) -> tuple[str | None, str | None]:
        base = [{"parameter": "Owner", "operator": "eq", "value": owner},
                {"parameter": "JobGroup", "operator": "eq", "value": project}]  # fmt: skip
        first = None
        if submitted:
            rows = dx.search(["SubmissionTime"], base, [{"parameter": "SubmissionTime", "direction": "asc"}],
                             per_page=1).rows  # fmt: skip
            first = rows[0]["SubmissionTime"] if rows else None
        last = dx.search(["LastUpdateTime"], base, [{"parameter": "LastUpdateTime", "direction": "desc"}], per_page=1)
        return first, (last.rows[0]["LastUpdateTime"] if last.rows else None)

    names = list(projects)
    if len(names) <= 1:  # no threads (nor their connections) for one project
        return {name: times(name) for name in names}
    from gb2.workers import worker_pool

    with worker_pool(8) as pool:
        return dict(zip(names, pool.map(times, names), strict=True))


def project_summaries(dx: DiracX, owner: str, projects: Iterable[str] = (), days: int = 30) -> list[ProjectSummary]:
    """One summary per project, oldest first: counts from one server-side grouping, times from two
    small searches each."""
    counts = project_counts(dx, owner, projects, days)
    stamps = project_times(dx, owner, sorted(counts))
    summaries = [ProjectSummary(p, owner, counts[p], *stamps[p]) for p in sorted(counts)]
    summaries.sort(key=lambda s: s.submitted or "")
    return summaries


def wait_until_final(
    dx: DiracX,
    selection: Selection,
    *,
    interval: float = 5.0,
    timeout: float | None = None,
    on_update: Callable[[dict[str, int]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    adjust: Callable[[dict[str, int]], dict[str, int]] | None = None,
    act: Callable[[dict[str, int]], bool] | None = None,
) -> dict[str, int]:
    """Poll the server-side summary until every selected job is final; returns the last counts.

    ``adjust`` sees each count first (gb2's scouting adds the jobs it holds, and releases them).
    ``act`` may change jobs at each refresh (automatic retries): when it says it did, the
    counts are read again at once."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        counts = status_counts(dx, selection)
        if adjust is not None:
            counts = adjust(counts)
        if on_update:
            on_update(counts)
        if act is not None and act(counts):
            continue
        if all_final(counts):
            return counts
        if deadline is not None and time.monotonic() >= deadline:
            return counts
        sleep(interval)


#: DIRAC job ids are positive 64-bit integers (the job database's key).
MAX_JOB_ID = 2**63 - 1


def parse_job_id(value: str | int) -> int:
    """A job id as typed: a positive integer that fits the job database."""
    try:
        job_id = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadInput(f"job id {value!r} is not a number") from None
    if not 1 <= job_id <= MAX_JOB_ID:
        raise BadInput(f"job id {value!r} is out of range (1 to {MAX_JOB_ID})")
    return job_id


def parse_selectors(job_ids: Iterable[str | int] = (), statuses: Iterable[str] = ()) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Job ids and statuses as typed, checked without any network call: (ids, canonical statuses)."""
    ids = tuple(parse_job_id(value) for value in job_ids)
    canonical = {s.lower(): s for s in ALL_STATES}
    wanted = []
    for status in statuses:
        if status.lower() not in canonical:
            raise BadInput(f"unknown status {status!r} (one of: {', '.join(ALL_STATES)})")
        wanted.append(canonical[status.lower()])
    return ids, tuple(wanted)


def resolve_selection(
    session: Any,
    projects: Iterable[str] = (),
    job_ids: Iterable[str | int] = (),
    statuses: Iterable[str] = (),
    user: str | None = None,
    *,
    check_names: bool = True,
) -> Selection:
    """Validate gbasf2-style selectors; ``user='all'`` means every user's jobs.

    With ``check_names`` a project or job id the user named must exist: one that
    matches no job is :class:`NotFound` (exit 5), another user's job id is
    :class:`Forbidden` (exit 4), before anything is done (see :func:`check_named`).
    """
    ids, wanted = parse_selectors(job_ids, statuses)
    owner = None if user == "all" else (user or session.username)
    selection = Selection(owner, projects=tuple(projects), job_ids=ids, statuses=wanted)
    if check_names:
        check_named(session.diracx, selection)
    return selection


def check_named(dx: DiracX, selection: Selection) -> None:
    """The projects and job ids a selection names exist and belong to its owner.

    One server-side summary for the projects and one search for the ids (whatever
    their number): a name that matches no job raises :class:`NotFound`; a job id of
    another user raises :class:`Forbidden` (with a search restricted to one's own jobs,
    as when the server hides others' jobs, it is simply not found).
    """
    whose = f" of {selection.owner}" if selection.owner else ""
    if selection.projects:
        owner = [{"parameter": "Owner", "operator": "eq", "value": selection.owner}] if selection.owner else []
        search = [*owner, {"parameter": "JobGroup", "operator": "in", "values": list(selection.projects)}]
        found = {row["JobGroup"] for row in dx.summary(["JobGroup"], search)}
        missing = [p for p in dict.fromkeys(selection.projects) if p not in found]
        if missing:
            raise NotFound(f"no project {', '.join(missing)}{whose}: it has no jobs")
    if selection.job_ids:
        wanted = list(dict.fromkeys(selection.job_ids))
        owners = {int(row["JobID"]): str(row["Owner"]) for row in dx.iter_search(
            ["JobID", "Owner"], [{"parameter": "JobID", "operator": "in", "values": wanted}])}  # fmt: skip
        missing = [j for j in wanted if j not in owners]
        if missing:
            more = " ..." if len(missing) > 20 else ""
            raise NotFound(f"job {', '.join(map(str, missing[:20]))}{more} not found")
        others = {j: owners[j] for j in wanted if selection.owner and owners[j] != selection.owner}
        if others:
            job, owner = next(iter(others.items()))
            more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
            raise Forbidden(f"job {job}{more} belongs to {owner}, not to {selection.owner}: "
                            f"you may act only on your own jobs (to look at theirs: -u {owner})")  # fmt: skip


#: A project's scout jobs are named ``<project>_scoutNN`` (:func:`scout_name`),
#: NN from 00 to ``MAX_SCOUTS - 1`` (gbasf2's --scouts K is at most 20).
MAX_SCOUTS = 20
SCOUT_PARAMETERS = ["JobID", "JobGroup", "JobName", "Status", "MinorStatus", "ApplicationStatus", "Site", "Owner"]


def scout_name(project: str, k: int) -> str:
    return f"{project}_scout{k:02d}"


def find_scouts(session: Any, projects: list[str], owner: str | None) -> dict[str, list[dict[str, Any]]]:
    """The scout jobs of these projects, from one search whatever their number (here, not in
    :mod:`gb2.jobs.scouts`: the status commands ask it of every project, scouted or not).

    The scouts are searched by their possible names, which a server looks up in an index
    (a ``like`` on the name would read every job of the project)."""
    if not projects:
        return {}
    names = {scout_name(project, k): project for project in dict.fromkeys(projects) for k in range(MAX_SCOUTS)}
    search = [{"parameter": "JobGroup", "operator": "in", "values": list(dict.fromkeys(projects))},
              {"parameter": "JobName", "operator": "in", "values": list(names)}]  # fmt: skip
    if owner:
        search.append({"parameter": "Owner", "operator": "eq", "value": owner})
    found: dict[str, list[dict[str, Any]]] = {}
    for row in session.diracx.iter_search(SCOUT_PARAMETERS, search):
        if names.get(str(row.get("JobName"))) == row["JobGroup"]:
            found.setdefault(row["JobGroup"], []).append(row)
    for rows in found.values():
        rows.sort(key=lambda r: r["JobName"])
    return found
