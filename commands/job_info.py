"""gb2_job_info: a job's attributes, JDL, parameters and status history."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_job_info",
    context_settings=CONTEXT,
    help="""Show what the grid records about a job. A gb2 tool.

Its attributes (status, site, owner, times, reschedules), its status history
with the time and source of each change, its JDL, its parameters (what its
heartbeats reported: CPU, memory, the tail of its output), and its attempts
when it was rescheduled or replaced (gb2_job_output -j ID --attempt N fetches
each attempt's logs).

A real DiracX 0.7 cannot give a job's JDL or parameters back: a note says so,
the rest is shown.

\b
--json  {"job", "jdl", "parameters", "history": [{"status", "minor_status",
         "application_status", "time", "source"}], "attempts", "notes"}
""",
)
@click.option("-j", "--jobid", "job_id", required=True, type=click.IntRange(1, 2**63 - 1), metavar="ID", help="The job.")
@json_option
@common
def cli(job_id: int, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.jobs.record import job_info
    from gb2.session import Session
    from gb2.ui.output import print_json

    record = job_info(Session.open(profile), job_id)
    if as_json:
        print_json(record.as_json())
        return 0
    job = record.attributes
    print(f"Job {job['JobID']} ({job['JobName']}) of project {job['JobGroup']}, owner {job['Owner']}")
    width = max(len(k) for k in job)
    for key, value in job.items():
        print(f"  {key:<{width}} : {value}")
    print("Status history (UTC):")
    for h in record.history:
        print(f"  {h.time[:23]:<23}  {h.status:<10} {h.minor_status:<36} {h.application_status:<24} {h.source}")
    if record.attempts:
        print("Attempts (gb2_job_output -j ID --attempt N):")
        for a in record.attempts:
            print(f"  {a['attempt']:>2}. job {a['job_id']}, run {a['reschedule'] + 1}: {a['status']} ({a['minor_status']}), "
                  f"{(a['started'] or '')[:19]} to {(a['ended'] or '')[:19]}")
    if record.parameters:
        print("Parameters:")
        for key, value in sorted(record.parameters.items()):
            shown = value if "\n" not in str(value) else f"({len(str(value).splitlines())} lines: gb2_job_peek -j {job['JobID']})"
            print(f"  {key} : {shown}")
    if record.jdl:
        print("JDL:")
        for line in record.jdl.splitlines():
            print(f"  {line}")
    for note in record.notes:
        print(f"Note: {note}")
    return 0
