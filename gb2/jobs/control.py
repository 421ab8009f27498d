"""Acting on jobs in bulk: what gb2_job_reschedule, gb2_job_kill and gb2_job_delete do.

A selection (gbasf2's -p/-j/--status/--user) is narrowed on the server to the jobs
the action applies to, listed by paged searches, and changed in chunks: one call
per thousand jobs, never one per job. gbasf2's rules:

* reschedule: only jobs in a fatal state (Failed, Killed, Stalled); the job runs
  again with the same sandbox and parameters, and its outputs get the next
  two-digit suffix;
* kill: jobs that have not ended yet; a running payload is stopped;
* delete: kills and removes jobs (status Deleted); they can no longer be rescheduled.

Jobs of the selection that the action does not apply to are reported as skipped,
with their status, so a user sees why nothing happened to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gb2.client.diracx import DiracX
from gb2.client.http import answer_lost, retrying
from gb2.errors import Forbidden
from gb2.jobs.states import ALL_STATES, DELETED, FATAL_STATES, FINAL_STATES
from gb2.jobs.status import Selection

CHUNK = 1000


@dataclass(frozen=True)
class Action:
    name: str  # the verb shown to users
    applies_to: frozenset[str]  # statuses the action acts on
    past: str  # "rescheduled"


NOT_ENDED = frozenset(ALL_STATES) - FINAL_STATES
RESCHEDULE = Action("reschedule", FATAL_STATES, "rescheduled")
KILL = Action("kill", NOT_ENDED, "killed")
DELETE = Action("delete", frozenset(ALL_STATES) - {DELETED}, "deleted")
ACTIONS = {a.name: a for a in (RESCHEDULE, KILL, DELETE)}


@dataclass
class Plan:
    """The jobs an action will change, and the selected jobs it leaves alone."""

    action: Action
    job_ids: list[int]
    statuses: dict[int, str] = field(default_factory=dict)  # status of each job in job_ids
    skipped: dict[int, str] = field(default_factory=dict)  # job id -> its status
    missing: list[int] = field(default_factory=list)  # -j ids that match no job of the selection

    @property
    def selected(self) -> int:
        return len(self.job_ids) + len(self.skipped)


@dataclass
class Outcome:
    plan: Plan
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # job id -> the server's reason

    @property
    def ok(self) -> bool:
        return not self.failed and not self.plan.missing

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.plan.action.name,
            "selected": self.plan.selected,
            "job_ids": self.done,
            "failed": {str(j): reason for j, reason in sorted(self.failed.items())},
            "skipped": {str(j): status for j, status in sorted(self.plan.skipped.items())},
            "not_found": self.plan.missing,
        }


def plan(dx: DiracX, action: Action, selection: Selection) -> Plan:
    """List the selection's jobs (one paged search) and split them by whether the action applies."""
    result = Plan(action, [])
    seen: set[int] = set()
    for row in dx.iter_search(["JobID", "Status"], selection.conditions()):
        job_id, status = int(row["JobID"]), str(row["Status"])
        seen.add(job_id)
        if status in action.applies_to:
            result.job_ids.append(job_id)
            result.statuses[job_id] = status
        else:
            result.skipped[job_id] = status
    result.missing = [j for j in selection.job_ids if j not in seen]
    result.job_ids.sort()
    return result


def check_may_act(session: Any, action: Action, selection: Selection) -> None:
    """Changing another user's jobs (``-u USER`` or ``-u all``) needs DIRAC's JobAdministrator
    property: refused before anything is listed or changed, whatever the jobs' statuses."""
    if selection.owner == session.username:
        return
    if "JobAdministrator" in (session.claims.get("dirac_properties") or []):
        return
    whose = "every user's jobs" if selection.owner is None else f"{selection.owner}'s jobs"
    raise Forbidden(f"you may not {action.name} {whose}: only your own (that needs the JobAdministrator property)")


def _failures(response: dict[str, Any]) -> dict[int, str]:
    failed = response.get("failed") or {}
    return {int(j): str(v.get("detail", v) if isinstance(v, dict) else v) for j, v in failed.items()}


def _reschedule(dx: DiracX, chunk: Sequence[int]) -> dict[str, Any]:
    """Reschedule is not idempotent (each call adds a reschedule): after a lost answer the
    jobs that left their fatal state were rescheduled, and only the others are sent again."""
    pending = list(chunk)
    failed: dict[str, Any] = {}

    def attempt() -> None:
        nonlocal pending
        if pending:
            failed.update(dx.reschedule(pending).get("failed") or {})
            pending = []

    def reconcile(exc: BaseException) -> None:
        nonlocal pending
        rows = dx.iter_search(["JobID", "Status"], [{"parameter": "JobID", "operator": "in", "values": pending}])
        still = {int(r["JobID"]) for r in rows if r["Status"] in FATAL_STATES}
        pending = [j for j in pending if j in still]

    retrying("DiracX reschedule", answer_lost, before_retry=reconcile)(attempt)
    return {"failed": failed}


def _call(dx: DiracX, job_plan: Plan, chunk: Sequence[int]) -> dict[str, Any]:
    if job_plan.action is RESCHEDULE:
        return _reschedule(dx, chunk)
    if job_plan.action is KILL:
        return dx.kill(chunk)
    # A job that has not ended is killed first (its payload stopped), as DIRAC does:
    # the state machine has no way from Running or Matched straight to Deleted.
    running = [j for j in chunk if job_plan.statuses.get(j) in NOT_ENDED]
    killed = _failures(dx.kill(running)) if running else {}
    response = dx.delete([j for j in chunk if j not in killed])
    return {"failed": {**{str(j): {"detail": r} for j, r in killed.items()}, **(response.get("failed") or {})}}


def execute(dx: DiracX, job_plan: Plan, *, progress: Callable[[int], None] | None = None) -> Outcome:
    """Apply the plan in chunks of :data:`CHUNK` jobs."""
    outcome = Outcome(job_plan)
    ids = job_plan.job_ids
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        failed = _failures(_call(dx, job_plan, chunk))
        outcome.failed.update(failed)
        outcome.done.extend(j for j in chunk if j not in failed)
        if progress:
            progress(len(chunk))
    return outcome


def skipped_reason(action: Action, status: str) -> str:
    if status == DELETED:
        return "deleted"
    if action is RESCHEDULE:
        return f"{status}: only Failed, Killed or Stalled jobs are rescheduled"
    if action is KILL:
        return f"{status}: the job has already ended"
    return status
