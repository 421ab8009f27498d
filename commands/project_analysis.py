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
  --failures   the failed jobs in clusters: by cause and by the signature of
               their logs (exit code, basf2 FATAL/ERROR lines, the last
               traceback line, with numbers, paths and job ids masked); each
               cluster with its count, sites, two example jobs, the lines that
               define it, what to do and a command to do it
               (gb2_job_reschedule -p P --cluster ID ...). Each log is read
               once and kept in a local cache.
  --json       {"selection", "count", "children": [{"status", "count",
               "children": [{"minor_status", ...}]}]}; with --failures
               {"projects", "jobs", "failed", "clusters": [{"id", "cause",
               "count", "sites", "examples", "exit_code", "lines",
               "advice", "command", "deterministic", ...}], "logs"}
""",
)
@selection_options
@click.option("--failures", is_flag=True, help="[gb2] The failed jobs in clusters by cause and log signature.")
@json_option
@common
def cli(projects, job_ids, statuses, user, failures, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.jobs.analysis import add_held_jobs, analyse, render
    from gb2.jobs.status import resolve_selection
    from gb2.session import Session
    from gb2.ui.output import print_json
    from gb2.ui.reports import scouting_views

    projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
    session = Session.open(profile)
    selection = resolve_selection(session, projects, job_ids, statuses, user)
    if failures:
        from gb2.jobs.clusters import failure_clusters
        from gb2.ui.failures import print_failures

        report = failure_clusters(session.diracx, selection, user=session.username)
        if as_json:
            print_json(report.as_json())
        else:
            print_failures(report)
        return 0
    views = scouting_views(session, selection) if not selection.statuses else {}
    root = add_held_jobs(analyse(session.diracx, selection), views)
    if as_json:
        print_json(root.as_json())
        return 0
    print(f"{root.count} jobs are selected.")
    for line in render(root):
        print(line)
    return 0
