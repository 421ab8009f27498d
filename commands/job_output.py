"""gb2_job_output: download jobs' output sandboxes (logs)."""

from __future__ import annotations

from pathlib import Path

import click

from commands._options import CONTEXT, common, greedy, json_option, selection_options, selectors


@click.command(
    "gb2_job_output",
    cls=greedy("-p", "--project", "-j", "--jobid"),
    context_settings=CONTEXT,
    help="""Download the output sandboxes (logs) of jobs, as gbasf2 does.

With -j the sandbox of each job goes to ./log/<jobid>/; with -p to
./log/<project>/<jobid>/. A sandbox holds std.out, std.err, job.info and the
basf2 log (Script1_basf2helper.py.log). A rescheduled job's newest sandbox is
fetched. A folder is renamed into place only once complete, and an older copy
is replaced.

\b
gb2 additions:
  --status    only jobs in this status (e.g. --status Failed: the logs of
              what went wrong)
  --dir DIR   put log/ under DIR instead of the current directory
  --attempt N with -j: the logs of the job's N-th attempt (1: its first
              run), counted over its reschedules and over the jobs that
              replaced it or that it replaced (gb2_job_reschedule with
              overrides); they go to ./log/<jobid>.attempt<N>/, <jobid> being
              the job that ran that attempt
  --json      machine-readable output
Exit code: 0 when the sandbox of every selected job that has ended was
fetched (a job still waiting or running has none yet: it is listed), 1
otherwise.""",
)
@selection_options
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="[gb2] Where log/ goes (default: the current directory).")  # fmt: skip
@click.option("--attempt", type=click.IntRange(1), default=None, metavar="N",
              help="[gb2] With -j: the logs of the job's N-th attempt (1: the first run).")  # fmt: skip
@json_option
@common
def cli(projects, job_ids, statuses, user, directory, attempt, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.errors import BadInput
    from gb2.fileio import check_output_dir
    from gb2.jobs.status import resolve_selection
    from gb2.session import Session
    from gb2.ui.jobactions import job_output_report

    projects, job_ids, statuses, user = selectors(projects, job_ids, statuses, user)
    if not (projects or job_ids):
        raise BadInput("say whose logs to fetch: -p PROJECT or -j ID")
    if attempt is not None and (projects or statuses or len(job_ids) != 1):
        raise BadInput("--attempt goes with one job: -j ID --attempt N")
    check_output_dir(directory / "log", "--dir")
    session = Session.open(profile)
    selection = resolve_selection(session, projects, job_ids, statuses, user)
    dest = (directory / "log").resolve()
    if attempt is not None:
        from gb2.ui.jobactions import attempt_output_report

        return attempt_output_report(session, int(job_ids[0]), attempt, dest=dest, as_json=as_json)
    return job_output_report(session, selection, by_project=bool(projects), dest=dest, as_json=as_json)
