"""gb2_project_summary: one line per project."""

from __future__ import annotations

import click

from commands._options import (
    CONTEXT,
    FOLLOWING_HELP,
    common,
    following,
    greedy,
    json_option,
    split_values,
    user_option,
    wait_options,
)


@click.command(
    "gb2_project_summary",
    cls=greedy("-p", "--project"),
    context_settings=CONTEXT,
    help=f"""One line per project: Project, Owner, Status, Done, Fail, Run, Wait,
Submission Time(UTC), Duration. Without -p, your projects of the last 30 days.

Status is Running while any job is not final, then Done (all jobs Done) or
Failed. Fail counts Failed, Killed and Stalled jobs.

\b
gb2 additions:
  --wait      follow the projects live until every job is final; exit 0
              only if all of them are Done (1 otherwise)
  --json      machine-readable output
{FOLLOWING_HELP}""",
)
@click.option("-p", "--project", "projects", multiple=True, metavar="PROJECT", help="Project(s) to show.")
@user_option
@wait_options
@json_option
@common
def cli(projects, user, wait, interval, timeout, auto_reschedule, notify, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.session import Session
    from gb2.ui.reports import project_summary_report

    names = split_values(projects, "-p/--project")
    extra = following("gb2_project_summary", wait, auto_reschedule, notify)
    session = Session.open(profile)
    owner = user or session.username
    return project_summary_report(session, owner, names, wait=wait, interval=interval, timeout=timeout, as_json=as_json,
                                  following=extra)  # fmt: skip
