"""gb2_job_status: gbasf2's job table and summary line."""

from __future__ import annotations

import click

from commands._options import (
    CONTEXT,
    FOLLOWING_HELP,
    common,
    following,
    greedy,
    json_option,
    selection_options,
    selectors,
    wait_options,
)


@click.command(
    "gb2_job_status",
    cls=greedy("-p", "--project", "-j", "--jobid"),
    context_settings=CONTEXT,
    help=f"""Show the status of your jobs, as gbasf2 does.

Prints "<N> jobs are selected.", a table (Job id, Status, MinorStatus,
ApplicationStatus, Site) and the summary line with the keys Completed, Deleted,
Done, Failed, Killed, Running, Stalled and Waiting. Waiting also counts jobs
not yet waiting (Received, Checking, Matched, ...) and Running counts
Completing ones: a line "Also: Received:3 (in Waiting)" names them.

A project or job id that does not exist exits 5, another user's job 4 (one
line on stderr); a --status filter that matches nothing is "0 jobs are
selected." with exit 0.

Several projects or job ids may follow -p/-j, space- or comma-separated
(gb2_job_status -p proj1 proj2).

\b
gb2 additions:
  --wait      follow the jobs live until all are final; exit 0 only if all
              of them are Done (1 otherwise)
  --json      machine-readable output (with "statuses": the DIRAC statuses)
{FOLLOWING_HELP}""",
)
@selection_options
@wait_options
@json_option
@common
def cli(projects, job_ids, statuses, user, wait, interval, timeout, auto_reschedule, notify, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.jobs.status import resolve_selection
    from gb2.session import Session
    from gb2.ui.reports import job_status_report

    projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
    extra = following("gb2_job_status", wait, auto_reschedule, notify)
    session = Session.open(profile)
    selection = resolve_selection(session, projects, job_ids, statuses, user)
    return job_status_report(session, selection, wait=wait, interval=interval, timeout=timeout, as_json=as_json,
                             following=extra)  # fmt: skip
