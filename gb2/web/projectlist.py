"""The project list: one row per project with its progress, counts, failure rate and state.

Counts for every project come from one server-side summary grouped by JobGroup
and Status (:func:`gb2.jobs.status.project_counts`), whatever the number of jobs;
the filters are applied to them, and only the projects shown get their last
update (a one-row search each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from gb2.jobs.states import SCOUTING
from gb2.jobs.status import ProjectSummary, project_counts, project_times
from gb2.web.filters import ProjectFilter
from gb2.web.plots import progress_bar

#: The columns of the list, in the order shown, and the DIRAC statuses each counts.
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Done", ("Done", "Completed")),
    ("Failed", ("Failed", "Killed", "Stalled")),
    ("Running", ("Running", "Completing")),
    ("Scouting", (SCOUTING,)),
)


@dataclass
class ProjectRow:
    summary: ProjectSummary

    @property
    def name(self) -> str:
        return self.summary.project

    @property
    def total(self) -> int:
        return self.summary.total - self.summary.column("Deleted")

    @property
    def columns(self) -> dict[str, int]:
        """Jobs per column of :data:`COLUMNS`, and the rest as Waiting (Deleted jobs left out)."""
        out = {label: self.summary.column(*statuses) for label, statuses in COLUMNS}
        out["Waiting"] = self.total - sum(out.values())
        return out

    @property
    def state(self) -> str:
        """Scouting while jobs wait for the project's scouts, else the project's status
        (Running, Done or Failed, as gb2_project_summary says)."""
        return "Scouting" if self.summary.counts.get(SCOUTING) else self.summary.status

    @property
    def failure_rate(self) -> float | None:
        """Failed, killed or stalled jobs among those that have ended or stalled."""
        c = self.columns
        ended = c["Done"] + c["Failed"]
        return c["Failed"] / ended if ended else None

    @property
    def bar(self) -> Markup:
        c = self.columns
        parts = [(k, c[k]) for k in ("Done", "Failed", "Running", "Scouting", "Waiting")]
        return progress_bar(parts, self.total, f"{c['Done']} of {self.total} jobs done")

    @property
    def percent_done(self) -> int:
        return int(100 * self.columns["Done"] / self.total) if self.total else 0


@dataclass
class ProjectList:
    rows: list[ProjectRow]
    found: int  # projects in the time window, before the filter


def project_list(session: Any, flt: ProjectFilter) -> ProjectList:
    """The user's projects of the last ``flt.days`` days that pass the filter, the most recently
    updated first."""
    dx = session.diracx
    owner = session.username
    counts = project_counts(dx, owner, days=flt.days)
    rows = [ProjectRow(ProjectSummary(p, owner, c)) for p, c in sorted(counts.items())]
    rows = [r for r in rows if flt.matches(r.name, r.state)]
    times = project_times(dx, owner, [r.name for r in rows], submitted=False)
    for row in rows:
        row.summary.last_update = times[row.name][1]
    rows.sort(key=lambda r: (r.summary.last_update or "", r.name), reverse=True)
    return ProjectList(rows, len(counts))
