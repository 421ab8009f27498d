"""Where the page sections that grow with the library get their data: one function each.

The templates render the small shapes below and nothing else, so a feature that
lands in ``gb2.jobs`` later plugs in by changing one function here:

* :func:`failure_clusters` and :func:`cluster_job_ids`: the failed jobs grouped by cause
  and log signature, with a suggested command (:mod:`gb2.jobs.clusters`, what
  gb2_project_analysis --failures shows); :func:`cluster_overrides` is what retrying a
  cluster changes (a banned site, more CPU time).
* :func:`scout_report`: None (section hidden) until the library reports on a
  project's scout jobs and forecasts it (issue 12).
* :func:`job_peek`: the tail of a running job's output as its heartbeats publish it
  (gb2_job_peek); None where the server cannot give it back (DiracX 0.7).
* :func:`job_attempts`: the runs of the job and of the jobs it replaced or that replaced
  it (:mod:`gb2.jobs.attempts`), each with the job that made it.

A provider never invents data: where the library has nothing, it returns None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.jobs.history import Attempt, StatusRecord
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


def _clusters(session: Any, project: str) -> Any:
    from gb2.jobs.clusters import failure_clusters as find

    return find(session.diracx, _owner_project(session, project), user=session.username)


def failure_clusters(session: Any, project: str) -> list[Cluster]:
    """The project's failed jobs in clusters by cause and log signature, biggest first."""
    out = []
    for c in _clusters(session, project).clusters:
        exit_code = "no exit code" if c.signature.exit_code is None else f"exit code {c.signature.exit_code}"
        out.append(Cluster(id=c.id, title=c.cause, advice=c.advice, count=c.count, sites=dict(c.sites.most_common()),
                           reasons={exit_code: c.count}, examples=c.examples, lines=list(c.signature.lines),
                           command=c.command_line, reschedulable=not c.deterministic))  # fmt: skip
    return out


def cluster_job_ids(session: Any, project: str, cluster_id: str) -> list[int] | None:
    """The jobs of one cluster (None if there is no such cluster any more)."""
    found = next((c for c in _clusters(session, project).clusters if c.id == cluster_id), None)
    return None if found is None else list(found.job_ids)


def cluster_overrides(session: Any, project: str, cluster_id: str) -> Any:
    """What retrying the cluster changes (:class:`gb2.jobs.replace.Overrides`), or None."""
    found = next((c for c in _clusters(session, project).clusters if c.id == cluster_id), None)
    return None if found is None else found.overrides


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
    """The last lines a running job wrote, as of its last heartbeat (None: the server cannot say)."""
    from gb2.errors import NotOffered
    from gb2.jobs.peek import PEEK_PARAMETER

    try:
        text = session.diracx.job_parameters([int(job["JobID"])]).get(int(job["JobID"]), {}).get(PEEK_PARAMETER)
    except NotOffered:
        return None
    return text.splitlines() if text else []


def job_attempts(session: Any, job: dict[str, Any], history: list[StatusRecord]) -> list[Attempt]:
    """The runs of the job and of the jobs it replaced or that replaced it, oldest first."""
    from gb2.jobs.attempts import chain_of, chain_runs

    rows = chain_of(session.diracx, job)
    known = {int(job["JobID"]): history} if len(rows) == 1 else None  # one job: its history is read already
    return [Attempt(run.number - 1, run.attempt.records, run.job_id) for run in chain_runs(session.diracx, rows, known)]
