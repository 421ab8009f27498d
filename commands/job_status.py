"""gb2_job_status: gbasf2's job table and summary line."""

from __future__ import annotations

import click

from commands._options import (
    CONTEXT,
    common,
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
    help="""Show the status of your jobs, as gbasf2 does.

Prints "<N> jobs are selected.", a table (Job id, Status, MinorStatus,
ApplicationStatus, Site) and the summary line with the keys Completed, Deleted,
Done, Failed, Killed, Running, Stalled and Waiting.

Several projects or job ids may follow -p/-j, space- or comma-separated
(gb2_job_status -p proj1 proj2).

\b
gb2 additions:
  --wait      follow the jobs live until all are final; exit 0 only if all
              of them are Done (1 otherwise)
  --json      machine-readable output
""",
)
@selection_options
@wait_options
@json_option
@common
def cli(projects, job_ids, statuses, user, wait, interval, timeout, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.jobs.status import resolve_selection
    from gb2.session import Session
    from gb2.ui.reports import job_status_report

    projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
    session = Session.open(profile)
    selection = resolve_selection(session, projects, job_ids, statuses, user)
    return job_status_report(session, selection, wait=wait, interval=interval, timeout=timeout, as_json=as_json)
