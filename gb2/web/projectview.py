"""One project's page: status breakdown, sites, failure clusters, scouts, states over time,
its jobs (a page at a time) and its output dataset.

Every part is one or a few server-side calls whatever the project's size: the
counts and the per-site table are summaries, the job table is one page of a
search, the timeline one paged search of four time columns, the dataset one
streamed file listing. The timeline and the dataset change only when the jobs
do, so they are kept until the project's counts or last update change.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from gb2.errors import NotFound
from gb2.jobs.naming import newest_generations
from gb2.jobs.states import ALL_STATES
from gb2.jobs.status import JOB_PARAMETERS, Selection, counts_by, project_summaries
from gb2.jobs.timeline import project_timeline
from gb2.web import providers
from gb2.web.cache import VersionCache
from gb2.web.filters import JobFilter
from gb2.web.plots import timeline_svg
from gb2.web.projectlist import ProjectRow

JOBS_PER_PAGE = 50
FILES_SHOWN = 100


@dataclass
class OutputFile:
    name: str
    datablock: str
    bytes: int | None


@dataclass
class DatasetView:
    lpn: str
    command: str
    exists: bool = False
    datablocks: list[str] = field(default_factory=list)
    files: list[OutputFile] = field(default_factory=list)  # the newest generation, first FILES_SHOWN
    file_count: int = 0
    total_bytes: int = 0
    superseded: int = 0  # older reschedule generations, which gb2_ds_get skips


@dataclass
class JobsTable:
    rows: list[dict[str, Any]]
    total: int
    filter: JobFilter

    @property
    def pages(self) -> int:
        return max(1, (self.total + JOBS_PER_PAGE - 1) // JOBS_PER_PAGE)


@dataclass
class ProjectView:
    row: ProjectRow
    statuses: list[tuple[str, int]]
    sites: list[tuple[str, dict[str, int], int]]
    site_statuses: list[str]
    clusters: list[providers.Cluster]
    scout: providers.ScoutReport | None
    timeline: Markup
    jobs: JobsTable
    dataset: DatasetView

    @property
    def name(self) -> str:
        return self.row.name


def output_dataset(session: Any, project: str) -> DatasetView:
    """The project's output container: its datablocks and files (newest reschedule generation)."""
    from gb2.data.datasets import to_lpn

    lpn = to_lpn(project, session.username)
    view = DatasetView(lpn, f"gb2_ds_get {project}")
    rucio = session.rucio
    did = rucio.did(lpn)
    try:
        listed = list(rucio.list_files(did.scope, did.name))
    except NotFound:
        return view
    view.exists = True
    sizes = {f["name"]: f.get("bytes") for f in listed}
    keep, superseded = newest_generations(sizes)
    view.superseded = len(superseded)
    view.file_count = len(keep)
    view.total_bytes = sum(int(sizes[n] or 0) for n in keep)
    view.datablocks = sorted({posixpath.basename(posixpath.dirname(n)) for n in keep})
    view.files = [OutputFile(posixpath.basename(n), posixpath.basename(posixpath.dirname(n)), sizes[n])
                  for n in sorted(keep)[:FILES_SHOWN]]  # fmt: skip
    return view


def jobs_table(session: Any, project: str, flt: JobFilter) -> JobsTable:
    conditions = [*Selection(session.username, projects=(project,)).conditions(), *flt.conditions()]
    page = session.diracx.search(JOB_PARAMETERS, conditions, [{"parameter": "JobID", "direction": "asc"}],
                                 page=flt.page, per_page=JOBS_PER_PAGE)  # fmt: skip
    return JobsTable(page.rows, page.total, flt)


def project_view(session: Any, project: str, flt: JobFilter, cache: VersionCache) -> ProjectView:
    dx = session.diracx
    found = project_summaries(dx, session.username, [project])
    if not found:
        raise NotFound(f"project {project} not found (or not yours)")
    summary = found[0]
    version = (tuple(sorted(summary.counts.items())), summary.last_update)
    selection = Selection(session.username, projects=(project,))
    per_site = counts_by(dx, selection, "Site")
    present = {s for counts in per_site.values() for s in counts}
    order = {s: i for i, s in enumerate(ALL_STATES)}
    return ProjectView(
        row=ProjectRow(summary),
        statuses=sorted(((s, n) for s, n in summary.counts.items() if n), key=lambda x: order.get(x[0], 99)),
        sites=sorted(((site, c, sum(c.values())) for site, c in per_site.items()), key=lambda x: (-x[2], x[0])),
        site_statuses=sorted(present, key=lambda s: order.get(s, 99)),
        clusters=cache.get("clusters", project, version, lambda: providers.failure_clusters(session, project)),
        scout=providers.scout_report(session, project, summary.counts),
        timeline=cache.get("timeline", project, version, lambda: timeline_svg(project_timeline(dx, selection))),
        jobs=jobs_table(session, project, flt),
        dataset=cache.get("dataset", project, version, lambda: output_dataset(session, project)),
    )
