"""Where the page sections that grow with the library get their data: one function each.

The templates render the small shapes below and nothing else, so a feature that
lands in ``gb2.jobs`` later plugs in by changing one function here:

* :func:`failure_clusters` and :func:`cluster_job_ids`: today the failed jobs grouped
  by the cause their records point at (:mod:`gb2.jobs.causes`); log-signature
  clusters with suggested commands (issue 13) replace them here.
* :func:`scout_report`: None (section hidden) until the library reports on a
  project's scout jobs and forecasts it (issue 12).
* :func:`job_peek`: None (shown as "not available") until the library can read a
  running job's latest output (issue 13's gb2_job_peek).
* :func:`job_attempts`: today the job's status history split at each reschedule
  (:mod:`gb2.jobs.history`); replacement jobs and per-attempt logs (issue 13) join
  here.

A provider never invents data: where the library has nothing, it returns None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.jobs.history import Attempt, StatusRecord, attempts
from gb2.jobs.status import Selection


@dataclass
class Cluster:
    """A group of failed jobs of one project that share a cause."""

    id: str  # stable within the project, used in links
    title: str
    advice: str
    count: int
    sites: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # what the job records say, with counts
    examples: list[int] = field(default_factory=list)  # a few job ids
    lines: list[str] = field(default_factory=list)  # log lines that define the cluster, if known
    command: str | None = None  # a suggested command line, if any
    reschedulable: bool = True  # whether rescheduling its jobs is worth offering


@dataclass
class ScoutReport:
    """A project's scout report and forecast, as label/value rows and warnings."""

    state: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _owner_project(session: Any, project: str) -> Selection:
    return Selection(session.username, projects=(project,))


def failure_clusters(session: Any, project: str) -> list[Cluster]:
    """The project's failed jobs in groups, biggest first (empty if nothing failed)."""
    from gb2.jobs.causes import cause_groups

    return [
        Cluster(id=g.id, title=g.cause, advice=g.advice, count=g.count, sites=dict(g.sites.most_common()),
                reasons=dict(g.reasons.most_common()), examples=g.examples, reschedulable=g.worth_retrying)
        for g in cause_groups(session.diracx, _owner_project(session, project))
    ]  # fmt: skip


def cluster_job_ids(session: Any, project: str, cluster_id: str) -> list[int] | None:
    """The jobs of one cluster (None if there is no such cluster any more)."""
    from gb2.jobs.causes import find_group, group_job_ids

    selection = _owner_project(session, project)
    group = find_group(session.diracx, selection, cluster_id)
    return None if group is None else group_job_ids(session.diracx, selection, group)


def scout_report(session: Any, project: str, counts: dict[str, int]) -> ScoutReport | None:
    """A scouted project's scouts, what became of its other jobs, the report and the forecast
    (the lines gb2_job_status prints, as label/value rows); None for a project without scouts.

    Looking brings the project up to date as any gb2 command does: held jobs whose scouts
    passed are released."""
    from gb2.jobs.scouts import project_scouting
    from gb2.ui.scouting import view_lines

    view = project_scouting(session, [project], scouting_counts={project: counts.get("Scouting", 0)}).get(project)
    if view is None:
        return None
    report = ScoutReport(view.state)
    for line in view_lines(view)[1:]:  # the first is a heading the page has already
        if line.startswith("Warning: "):
            report.warnings.append(line.removeprefix("Warning: "))
            continue
        label, sep, value = line.strip().partition("  ")
        if not sep:
            label, sep, value = line.strip().partition(": ")
        short = sep and len(label) <= 30  # a label, not a sentence with a colon in it
        report.rows.append((label.strip(), value.strip()) if short else ("", line.strip()))
    return report


def job_peek(session: Any, job: dict[str, Any]) -> list[str] | None:
    """The last lines a running job wrote. Not provided by the library yet (issue 13)."""
    return None


def job_attempts(session: Any, job: dict[str, Any], history: list[StatusRecord]) -> list[Attempt]:
    """The job's runs, oldest first; the last one is the current run."""
    return attempts(history)
