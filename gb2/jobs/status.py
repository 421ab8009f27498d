"""Job and project status: selections, gbasf2's summaries, and waiting for the end.

Counts come from DiracX's server-side ``/api/jobs/summary`` (one call whatever the
project size); job listings stream through paged searches. Nothing here makes a
request per job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from gb2.client.diracx import DiracX
from gb2.errors import BadInput
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


def status_counts(dx: DiracX, selection: Selection) -> dict[str, int]:
    """Jobs per DIRAC status, aggregated by the server."""
    counts: dict[str, int] = {}
    for row in dx.summary(["Status"], selection.conditions()):
        counts[row["Status"]] = counts.get(row["Status"], 0) + int(row["count"])
    return counts


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


def project_summaries(dx: DiracX, owner: str, projects: Iterable[str] = (), days: int = 30) -> list[ProjectSummary]:
    """One summary per project: counts from one server-side grouping, times from two small searches each."""
    names = tuple(projects)
    since = None if names else datetime.now(timezone.utc) - timedelta(days=days)
    selection = Selection(owner, projects=names, since=since)
    counts: dict[str, dict[str, int]] = {}
    for row in dx.summary(["JobGroup", "Status"], selection.conditions()):
        counts.setdefault(row["JobGroup"], {})[row["Status"]] = int(row["count"])
    found = sorted(counts)

    def times(project: str) -> tuple[str | None, str | None]:
        base = [{"parameter": "Owner", "operator": "eq", "value": owner},
                {"parameter": "JobGroup", "operator": "eq", "value": project}]  # fmt: skip
        first = dx.search(["SubmissionTime"], base, [{"parameter": "SubmissionTime", "direction": "asc"}], per_page=1)
        last = dx.search(["LastUpdateTime"], base, [{"parameter": "LastUpdateTime", "direction": "desc"}], per_page=1)
        return (first.rows[0]["SubmissionTime"] if first.rows else None,
                last.rows[0]["LastUpdateTime"] if last.rows else None)  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(times, found))
    summaries = [ProjectSummary(p, owner, counts[p], *t) for p, t in zip(found, stamps, strict=True)]
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
) -> dict[str, int]:
    """Poll the server-side summary until every selected job is final; returns the last counts.

    ``adjust`` sees each count first (gb2's scouting adds the jobs it holds, and releases them)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        counts = status_counts(dx, selection)
        if adjust is not None:
            counts = adjust(counts)
        if on_update:
            on_update(counts)
        if all_final(counts):
            return counts
        if deadline is not None and time.monotonic() >= deadline:
            return counts
        sleep(interval)


def resolve_selection(
    session: Any,
    projects: Iterable[str] = (),
    job_ids: Iterable[str | int] = (),
    statuses: Iterable[str] = (),
    user: str | None = None,
) -> Selection:
    """Validate gbasf2-style selectors; ``user='all'`` means every user's jobs."""
    ids: list[int] = []
    for value in job_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise BadInput(f"job id {value!r} is not a number") from None
    wanted = []
    canonical = {s.lower(): s for s in ALL_STATES}
    for status in statuses:
        if status.lower() not in canonical:
            raise BadInput(f"unknown status {status!r} (one of: {', '.join(ALL_STATES)})")
        wanted.append(canonical[status.lower()])
    owner = None if user == "all" else (user or session.username)
    return Selection(owner, projects=tuple(projects), job_ids=tuple(ids), statuses=tuple(wanted))
