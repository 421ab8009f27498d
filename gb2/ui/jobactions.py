"""The printouts of gb2_job_reschedule, gb2_job_kill, gb2_job_delete and gb2_job_output.

JSON keys (stable):

* reschedule/kill/delete: ``{"action", "selected", "job_ids": [changed], "failed":
  {id: reason}, "skipped": {id: status}, "not_found": [ids]}``; a reschedule with overrides
  adds ``"replaced": {old id: new id}`` and ``"overrides"``
* gb2_job_output: ``{"selected", "downloaded": {id: folder}, "no_sandbox": {id: why},
  "failed": {id: reason}}``; with ``--attempt``: ``{"job_id", "attempt", "attempts",
  "ran_as": {"attempt", "job_id", "reschedule", "started", "ended", "status", "minor_status"},
  "folder"}`` (``folder`` null when that attempt left no logs)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gb2.errors import ExitCode, OperationFailed
from gb2.jobs import control
from gb2.jobs.status import Selection
from gb2.ui.output import print_json
from gb2.ui.prompts import confirm

LISTED = 20  # per-job lines shown before "... and N more"


def _listing(items: Iterable[tuple[Any, str]]) -> None:
    items = list(items)
    for key, text in items[:LISTED]:
        print(f"  {key:>10}  {text}")
    if len(items) > LISTED:
        print(f"  ... and {len(items) - LISTED} more (--json lists them all)")


def _ids(ids: list[int]) -> str:
    shown = " ".join(str(j) for j in ids[:LISTED])
    return shown + (f" ... and {len(ids) - LISTED} more" if len(ids) > LISTED else "")


def _plural(n: int) -> str:
    return f"{n} job" + ("" if n == 1 else "s")


def _show_plan(plan: control.Plan) -> None:
    action = plan.action
    print(f"{plan.selected} jobs are selected.")
    for job_id in plan.missing:
        print(f"Job {job_id}: not in this selection (-p/--status)")
    if plan.skipped:
        print(f"Not {action.past} ({_plural(len(plan.skipped))}):")
        _listing((j, control.skipped_reason(action, s)) for j, s in sorted(plan.skipped.items()))


def _end(failure: str | None, missing: list[int]) -> int:
    """Exit 0, or 1 with the first failure, or with the -j ids the selection did not hold."""
    if failure:
        raise OperationFailed(failure)
    if missing:
        raise OperationFailed(f"{_plural(len(missing))} named with -j not in this selection: {_ids(missing)}")
    return ExitCode.OK


def _outcome(action: control.Action, failed: dict[int, str], missing: list[int]) -> int:
    """Exit 0 only if every selected job the action applies to changed."""
    job, reason = min(failed.items()) if failed else (0, "")
    return _end(f"could not {action.name} {_plural(len(failed))} (job {job}: {reason})" if failed else None, missing)


def job_action_report(session: Any, action_name: str, selection: Selection, *, force: bool, as_json: bool) -> int:
    """Plan, confirm, act, report. Exit 0 only if every selected job the action applies to changed."""
    action = control.ACTIONS[action_name]
    dx = session.diracx
    plan = control.plan(dx, action, selection)
    if not as_json:
        _show_plan(plan)
    if plan.job_ids:
        confirm(f"Do you want to {action.name} {_plural(len(plan.job_ids))}?", force=force, what=action.name,
                nothing=f"no job was {action.past}")  # fmt: skip
    outcome = control.execute(dx, plan)
    if as_json:
        print_json(outcome.as_json())
    else:
        done = f"{action.past.capitalize()} {_plural(len(outcome.done))}: {_ids(outcome.done)}" if outcome.done else None
        _show_outcome(plan, outcome.failed, done)
    return _outcome(action, outcome.failed, plan.missing)


def _show_outcome(plan: control.Plan, failed: dict[int, str], done: str | None,
                  items: Iterable[tuple[Any, str]] = ()) -> None:  # fmt: skip
    action = plan.action
    if done:
        print(done)
        _listing(items)
    elif not plan.job_ids:
        print(f"No job to {action.name}.")
    if failed:
        print(f"Could not {action.name} {_plural(len(failed))}:")
        _listing(sorted(failed.items()))


def job_replace_report(session: Any, selection: Selection, overrides: Any, *, force: bool, as_json: bool) -> int:
    """gb2_job_reschedule with overrides: each selected Failed, Killed or Stalled job is replaced
    by a new job with the overrides (DIRAC's reschedule cannot change a job)."""
    from gb2.jobs.replace import replace_jobs

    action = control.RESCHEDULE
    dx = session.diracx
    plan = control.plan(dx, action, selection)
    if not as_json:
        _show_plan(plan)
    options = " ".join(overrides.as_args())
    if plan.job_ids:
        confirm(f"Do you want to run {_plural(len(plan.job_ids))} again with {options} (new jobs replace them)?",
                force=force, what=action.name, nothing=f"no job was {action.past}")  # fmt: skip
    rows = list(dx.iter_search(["JobID", "JobName", "JobGroup", "Owner", "Status", "RescheduleCounter"],
                               [{"parameter": "JobID", "operator": "in", "values": plan.job_ids}])) if plan.job_ids else []  # fmt: skip
    outcome = replace_jobs(dx, rows, overrides)
    if as_json:
        print_json({"action": action.name, "selected": plan.selected, "job_ids": sorted(outcome.replaced),
                    "replaced": {str(o): n for o, n in sorted(outcome.replaced.items())}, "overrides": overrides.as_json(),
                    "failed": {str(j): r for j, r in sorted(outcome.failed.items())},
                    "skipped": {str(j): s for j, s in sorted(plan.skipped.items())}, "not_found": plan.missing})  # fmt: skip
    else:
        done = (f"Replaced {_plural(len(outcome.replaced))} by new jobs with {options} (DIRAC's reschedule cannot "
                "change a job; the old ones are Deleted, their logs kept):") if outcome.replaced else None  # fmt: skip
        _show_outcome(plan, outcome.failed, done, ((old, f"-> job {new}") for old, new in sorted(outcome.replaced.items())))
    return _outcome(action, outcome.failed, plan.missing)


def job_output_report(session: Any, selection: Selection, *, by_project: bool, dest: Path, as_json: bool) -> int:
    """gbasf2's layout: ``log/<jobid>/`` for -j, ``log/<project>/<jobid>/`` for -p."""
    from gb2.jobs.output import fetch_outputs
    from gb2.jobs.status import iter_jobs
    from gb2.paths import path_inside

    dx = session.diracx
    jobs = [(int(r["JobID"]), r["Status"], r["JobGroup"]) for r in iter_jobs(dx, selection, ["JobID", "Status", "JobGroup"])]
    missing = sorted(set(selection.job_ids) - {j for j, _, _ in jobs})
    if not as_json:
        print(f"Output sandboxes go to {dest}/")
        print(f"{len(jobs)} jobs are selected.")
        for job_id in missing:
            print(f"Job {job_id}: not in this selection (-p/--status)")
        if jobs:
            print("Please wait...")

    def dest_of(job_id: int, project: str) -> Path:
        # The project name comes from the server: it must not lead out of log/.
        return path_inside(dest, f"{project}/{job_id}" if by_project else str(job_id))

    outcome = fetch_outputs(dx, jobs, dest_of)
    if as_json:
        print_json({"selected": len(jobs), **outcome.as_json(), "not_found": missing})
    else:
        for job_id, folder in sorted(outcome.fetched.items()):
            print(f"Downloaded: {job_id} retrieved in {folder}")
        if outcome.missing:
            print(f"{_plural(len(outcome.missing))} without an output sandbox:")
            _listing(sorted(outcome.missing.items()))
        if outcome.failed:
            print(f"Could not fetch {_plural(len(outcome.failed))}:")
            _listing(sorted(outcome.failed.items()))
    # A job that has not ended has no sandbox yet: listed, not a failure (b2luigi relies on it).
    ended_without = {j: r for j, r in outcome.missing.items() if j not in outcome.not_ended}
    problems = {**ended_without, **outcome.failed}
    job, reason = min(problems.items()) if problems else (0, "")
    return _end(f"{_plural(len(problems))} of {len(jobs)} without logs here (job {job}: {reason})" if problems else None,
                missing)  # fmt: skip


def attempt_output_report(session: Any, job_id: int, number: int, *, dest: Path, as_json: bool) -> int:
    """The logs of one attempt of a job's chain (its reschedules and replacements)."""
    from gb2.jobs.attempts import attempt_sandbox, chain, job_row
    from gb2.paths import path_inside

    dx = session.diracx
    runs = chain(dx, job_row(dx, job_id))
    run = runs.run(number)
    folder = attempt_sandbox(dx, run, path_inside(dest, f"{run.job_id}.attempt{number}"))
    if as_json:
        print_json({"job_id": job_id, "attempt": number, "attempts": len(runs.runs), "ran_as": run.as_json(),
                    "folder": str(folder) if folder else None})  # fmt: skip
    else:
        last = run.attempt.last
        print(f"Attempt {number} of {len(runs.runs)} of job {job_id}: job {run.job_id}, run {run.reschedule + 1}"
              + (f", ended {last.status} ({last.minor_status})" if last else ""))  # fmt: skip
        if folder:
            print(f"Downloaded: {run.job_id} retrieved in {folder}")
    if folder is None:
        raise OperationFailed(f"attempt {number} of job {job_id} (job {run.job_id}) left no logs")
    return ExitCode.OK
