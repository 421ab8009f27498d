"""gb2_job_reschedule, gb2_job_kill and gb2_job_delete: one shape, three actions."""

from __future__ import annotations

from typing import Any

import click

from commands._options import (
    CONTEXT,
    common,
    greedy,
    json_option,
    not_empty,
    selection_options,
    selectors,
)

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
never reschedules all your jobs implicitly.

\b
gb2 additions: retries with overrides
  --cputime MIN, --site SITE, --banned_site SITE, --basf2opt OPTS
              run the jobs again changed (gbasf2's options of the same
              names; banned sites add to the job's own). DIRAC's
              reschedule cannot change a job, so gb2 submits a new job in
              the same project for each (named <old name>_r1, _r2...,
              outputs with the next _NN suffix, so gb2_ds_get still fetches
              one generation per index) and deletes the old one with the
              minor status "Replaced by job N"; its logs stay readable
              (gb2_job_output -j ID --attempt N)
  --cluster ID
              only the jobs of this failure cluster of the selection
              (gb2_project_analysis -p P --failures lists them and suggests
              the command){GB2_ADDITIONS}""",
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


def overrides_options(command: click.Command) -> click.Command:
    """gb2_job_reschedule's overrides and --cluster (added after the shared options, in this order)."""
    for option in (
        click.option("--cputime", type=click.IntRange(1, 100_000), default=None, metavar="MIN",
                     help="[gb2] Run them again with this CPU time per job (minutes)."),
        click.option("--site", "sites", multiple=True, metavar="SITE", help="[gb2] Run them again only at these sites."),
        click.option("--banned_site", "banned", multiple=True, metavar="SITE",
                     help="[gb2] Run them again, never at these sites."),
        click.option("--basf2opt", default=None, metavar="OPTS", help="[gb2] Run them again with these basf2 options."),
        click.option("--cluster", default=None, metavar="ID", callback=not_empty("a cluster id"),
                     help="[gb2] Only the jobs of this failure cluster (gb2_project_analysis --failures)."),
    ):  # fmt: skip
        command = option(command)
    return command


def make(action: str) -> click.Command:
    @click.command(f"gb2_job_{action}", cls=greedy("-p", "--project", "-j", "--jobid", "--site", "--banned_site"),
                   context_settings=CONTEXT, help=HELP[action])  # fmt: skip
    @selection_options
    @click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
    @json_option
    @common
    def cli(projects, job_ids, statuses, user, force, as_json, profile, debug, **extra) -> int:  # type: ignore[no-untyped-def]
        from gb2.errors import BadInput
        from gb2.jobs.control import ACTIONS, check_may_act
        from gb2.jobs.status import resolve_selection
        from gb2.session import Session
        from gb2.ui.jobactions import job_action_report

        projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
        if not (projects or job_ids or statuses):
            raise BadInput(f"say which jobs to {action}: -p PROJECT, -j ID or --status STATUS")
        overrides = _overrides(extra) if extra else None
        if extra.get("cluster") and not (projects or job_ids):
            raise BadInput("--cluster needs -p PROJECT (or -j IDS): the selection whose failures it was found in")
        session = Session.open(profile)
        selection = resolve_selection(session, projects, job_ids, statuses, user)
        check_may_act(session, ACTIONS[action], selection)
        if extra.get("cluster"):
            selection = _cluster_selection(session, selection, extra["cluster"])
        if overrides:
            from gb2.ui.jobactions import job_replace_report

            if selection.owner != session.username:
                raise BadInput("a reschedule with overrides submits new jobs as you: it acts on your own jobs only")
            return job_replace_report(session, selection, overrides, force=force, as_json=as_json)
        return job_action_report(session, action, selection, force=force, as_json=as_json)

    return overrides_options(cli) if action == "reschedule" else cli


def _overrides(extra: dict[str, Any]) -> Any:
    """The overrides as given, checked before any network call."""
    from commands._options import split_values
    from gb2.jobs.replace import Overrides

    return Overrides(extra["cputime"], tuple(split_values(extra["sites"], "--site")),
                     tuple(split_values(extra["banned"], "--banned_site")), extra["basf2opt"]).check()  # fmt: skip


def _cluster_selection(session: Any, selection: Any, cluster_id: str) -> Any:
    """The jobs of one failure cluster of the selection (found as gb2_project_analysis --failures finds it)."""
    from dataclasses import replace

    from gb2.jobs.clusters import failure_clusters

    cluster = failure_clusters(session.diracx, selection, user=session.username).find(cluster_id)
    return replace(selection, job_ids=tuple(cluster.job_ids))


COMMANDS: dict[str, Any] = {f"gb2_job_{action}": make(action) for action in HELP}
