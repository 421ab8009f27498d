"""``BelleDIRAC.gbasf2.lib.job.information_collector`` (gb2 stand-in): jobs of projects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gb2.gbasf2_env.api import job_summary, project_jobs


class InformationCollector:
    """The jobs of projects and their statuses, from DiracX's paged job search."""

    def getAllJobsInProjects(self, projects: Iterable[str], date: str | None = None,  # noqa: N802
                             login: Sequence[str | None] | None = None,
                             statuses: dict[str, Sequence[str]] | None = None,
                             **kwargs: Any) -> dict[str, Any]:  # fmt: skip
        """``{"OK", "Value": {project: [job, ...]}}``: the jobs of ``login[0]`` (the
        logged-in user if None) submitted after ``date``, of ``statuses["Status"]``
        (``["all"]``: any)."""
        user = login[0] if login else None
        wanted = (statuses or {}).get("Status", ())
        return project_jobs(projects, user=user, since=date, statuses=wanted)

    def getJobSummary(self, items: Iterable[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:  # noqa: N802
        """``{"OK", "Value": {job id: {"Status", "MinorStatus", "ApplicationStatus", ...}}}``;
        not OK when there are no jobs."""
        return job_summary(items)
