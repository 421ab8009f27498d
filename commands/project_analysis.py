"""gb2_project_analysis: where the jobs of a project ended, and why."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, greedy, json_option, selection_options, selectors


@click.command(
    "gb2_project_analysis",
    cls=greedy("-p", "--project", "-j", "--jobid"),
    context_settings=CONTEXT,
    help="""Break jobs down by Status, MinorStatus, ApplicationStatus and Site.

Prints gbasf2's indented tree: "Status (n)", then "MinorStatus (n)", then
"ApplicationStatus (n)", then "<Site> : n" lines, biggest first. Failures
that share a cause land on one branch, and a site that fails more than the
others stands out. The counts come from one server-side aggregation, so a
project of 100,000 jobs costs the same as one of ten.

\b
gb2 additions:
  -j/--status  narrow the selection (as in gb2_job_status)
  --json       {"selection", "count", "children": [{"status", "count",
               "children": [{"minor_status", ...}]}]}
""",
)
@selection_options
@json_option
@common
def cli(projects, job_ids, statuses, user, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.jobs.analysis import add_held_jobs, analyse, render
    from gb2.jobs.status import resolve_selection
    from gb2.session import Session
    from gb2.ui.output import print_json
    from gb2.ui.reports import scouting_views

    projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
    session = Session.open(profile)
    selection = resolve_selection(session, projects, job_ids, statuses, user)
    views = scouting_views(session, selection) if not selection.statuses else {}
    root = add_held_jobs(analyse(session.diracx, selection), views)
    if as_json:
        print_json(root.as_json())
        return 0
    print(f"{root.count} jobs are selected.")
    for line in render(root):
        print(line)
    return 0
