"""gb2_job_reschedule, gb2_job_kill and gb2_job_delete: one shape, three actions."""

from __future__ import annotations

from typing import Any

import click

from commands._options import CONTEXT, common, greedy, json_option, selection_options, selectors

SELECTORS = """
Jobs are chosen with -p (projects), -j (job ids), --status and -u/--user;
several projects or ids may follow one -p/-j, space- or comma-separated.
"""

GB2_ADDITIONS = """
\b
gb2 additions:
  --status    narrow the selection to jobs in this status
  --json      machine-readable output (it does not answer the question:
              add --force)
In scripts pass -f/--force: without a terminal to answer the Y/N question
the command stops (exit 2) and changes nothing.
Exit code: 0 when every selected job it applies to was changed, 1 otherwise;
5 when a named project or job does not exist, 4 for another user's job."""

HELP = {
    "reschedule": f"""Run failed jobs again (gbasf2's gb2_job_reschedule).

Only jobs in a fatal state (Failed, Killed, Stalled) are rescheduled: they run
again with the same sandbox and parameters, and each output file gets the next
two-digit suffix (_01, _02, ...). Other selected jobs are listed and left alone.
{SELECTORS}
\b
Difference from gbasf2: a selection (-p, -j or --status) is required; gb2
never reschedules all your jobs implicitly.{GB2_ADDITIONS}""",
    "kill": f"""Kill jobs that have not ended (gbasf2's gb2_job_kill).

A running payload is stopped. Killed jobs stay in the job database and can be
rescheduled with gb2_job_reschedule.
{SELECTORS}
\b
Difference from gbasf2: a selection (-p, -j or --status) is required; gb2
never kills all your jobs implicitly.{GB2_ADDITIONS}""",
    "delete": f"""Kill and remove jobs (gbasf2's gb2_job_delete).

Jobs that have not ended are killed first. Deleted jobs cannot be rescheduled;
their output files stay in the catalogue.
{SELECTORS}
\b
Difference from gbasf2: a selection (-p, -j or --status) is required; gb2
never deletes all your jobs implicitly.{GB2_ADDITIONS}""",
}


def make(action: str) -> click.Command:
    @click.command(f"gb2_job_{action}", cls=greedy("-p", "--project", "-j", "--jobid"),
                   context_settings=CONTEXT, help=HELP[action])  # fmt: skip
    @selection_options
    @click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
    @json_option
    @common
    def cli(projects, job_ids, statuses, user, force, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
        from gb2.errors import BadInput
        from gb2.jobs.control import ACTIONS, check_may_act
        from gb2.jobs.status import resolve_selection
        from gb2.session import Session
        from gb2.ui.jobactions import job_action_report

        projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
        if not (projects or job_ids or statuses):
            raise BadInput(f"say which jobs to {action}: -p PROJECT, -j ID or --status STATUS")
        session = Session.open(profile)
        selection = resolve_selection(session, projects, job_ids, statuses, user)
        check_may_act(session, ACTIONS[action], selection)
        return job_action_report(session, action, selection, force=force, as_json=as_json)

    return cli


COMMANDS: dict[str, Any] = {f"gb2_job_{action}": make(action) for action in HELP}
