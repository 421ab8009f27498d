"""gb2_job_peek: what a running job is writing now."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_job_peek",
    context_settings=CONTEXT,
    help="""Show the last lines a running job wrote (its application's output). A gb2 tool.

The job wrapper publishes the tail of the output with each heartbeat, as
DIRAC's watchdog does (the job parameter StandardOutput); this shows the
latest. For a job that has ended, the last lines it published, and where its
logs are (gb2_job_output -j ID).

A real DiracX 0.7 stores the job parameter but has no way to read it back:
then this says so (exit 7).

\b
--json  {"job_id", "status", "minor_status", "site", "heartbeat", "running",
         "lines", "note"}
""",
)
@click.option("-j", "--jobid", "job_id", required=True, type=click.IntRange(1, 2**63 - 1), metavar="ID", help="The job.")
@json_option
@common
def cli(job_id: int, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.jobs.peek import peek
    from gb2.session import Session
    from gb2.ui.output import print_json

    seen = peek(Session.open(profile), job_id)
    if as_json:
        print_json(seen.as_json())
        return 0
    job = seen.job
    print(f"Job {job['JobID']} ({job['JobName']}) at {job['Site']}: {job['Status']} ({job['MinorStatus']})")
    print(f"{seen.note[0].upper()}{seen.note[1:]}" + (":" if seen.lines else "."))
    for line in seen.lines:
        print(f"  | {line}")
    return 0
