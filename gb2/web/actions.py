"""The page's actions: reschedule a project's failed jobs (or one cluster's), kill a project.

Each goes through :mod:`gb2.jobs.control`, as gb2_job_reschedule and gb2_job_kill do:
a plan (one paged search, shown on the confirmation page), then the change in
chunks. The plan is made again when the user confirms, so the jobs changed are
those in the right state at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gb2.errors import BadInput, NotFound
from gb2.jobs import control
from gb2.jobs.states import FATAL_STATES
from gb2.jobs.status import Selection
from gb2.web import providers

LISTED = 20


@dataclass
class Request:
    action: control.Action
    project: str
    cluster: str | None = None

    @property
    def title(self) -> str:
        what = "the failed, killed or stalled jobs" if self.action is control.RESCHEDULE else "the jobs that have not ended"
        if self.cluster:
            what = f"the jobs of the failure cluster “{self.cluster}”"
        return f"{self.action.name.capitalize()} {what} of project {self.project}"


def parse(action: str, project: str, cluster: str | None) -> Request:
    if action not in ("reschedule", "kill"):
        raise NotFound(f"no action {action!r}")
    if cluster is not None and action != "reschedule":
        raise BadInput("only rescheduling acts on a cluster")
    return Request(control.ACTIONS[action], project, cluster or None)


def selection(session: Any, request: Request) -> Selection | None:
    """The jobs the action is about (None: a cluster that no longer has jobs)."""
    owner = session.username
    if request.cluster:
        ids = providers.cluster_job_ids(session, request.project, request.cluster)
        if not ids:
            return None
        return Selection(owner, projects=(request.project,), job_ids=tuple(ids))
    statuses = FATAL_STATES if request.action is control.RESCHEDULE else control.NOT_ENDED
    return Selection(owner, projects=(request.project,), statuses=tuple(sorted(statuses)))


def plan(session: Any, request: Request) -> control.Plan:
    chosen = selection(session, request)
    if chosen is None:
        return control.Plan(request.action, [])
    return control.plan(session.diracx, request.action, chosen)


def run(session: Any, request: Request) -> control.Outcome:
    """The action; a cluster whose retry changes the jobs (a banned site, more CPU time) is
    run again as replacement jobs, as its suggested gb2_job_reschedule command does."""
    overrides = providers.cluster_overrides(session, request.project, request.cluster) if request.cluster else None
    if not overrides:
        return control.execute(session.diracx, plan(session, request))
    from gb2.jobs.replace import replace_jobs

    chosen = plan(session, request)
    rows = list(session.diracx.iter_search(["JobID", "JobName", "JobGroup", "Owner", "Status", "RescheduleCounter"],
                                           [{"parameter": "JobID", "operator": "in", "values": chosen.job_ids}]))  # fmt: skip
    replaced = replace_jobs(session.diracx, rows, overrides) if rows else None
    return control.Outcome(chosen, sorted(replaced.replaced) if replaced else [], replaced.failed if replaced else {})


def outcome_text(outcome: control.Outcome) -> str:
    action = outcome.plan.action
    n = len(outcome.done)
    text = f"{n} job{'s' if n != 1 else ''} {action.past}."
    if outcome.failed:
        text += f" {len(outcome.failed)} could not be {action.past}: " + "; ".join(
            f"{j}: {r}" for j, r in sorted(outcome.failed.items())[:5])  # fmt: skip
    if not outcome.plan.job_ids:
        text = f"Nothing to {action.name}: no job of the selection is in a state the action applies to."
    return text
