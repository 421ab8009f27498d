"""gb2_diagnostic: check the set-up, or explain a failed job."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_diagnostic",
    context_settings=CONTEXT,
    help="""Check your set-up, or explain why a job failed (gbasf2's gb2_diagnostic).

Without options: checks the profile, the DiracX server, the clock, your login,
an authorised DiracX call, Rucio and basf2, one line each (OK, WARN or FAIL).
Exit 0 unless a check FAILs.

--failed_job ID: the job's status, minor status and application status, the
cause in plain words (the analysis itself, input data, CPU time, a lost worker,
a kill), what to do about it, and the last lines of its newest log.

\b
Difference from gbasf2: --waiting_job is not available yet.
gb2 addition: --json  {"checks": [{"name", "status", "detail"}], "ok"} or
  {"job", "cause", "advice", "log_file", "log_tail"}
""",
)
@click.option("--failed_job", type=click.IntRange(1, 2**63 - 1), metavar="ID", default=None,
              help="Explain why this job failed.")
@json_option
@common
def cli(failed_job: int | None, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.errors import ExitCode, OperationFailed
    from gb2.jobs import diagnosis
    from gb2.ui.output import print_json

    if failed_job is None:
        checks = diagnosis.check_setup(profile)
        ok = all(c.status != diagnosis.FAIL for c in checks)
        if as_json:
            print_json({"checks": [c.as_json() for c in checks], "ok": ok})
        else:
            for c in checks:
                print(f"[{c.status:^4}] {c.name:<14} {c.detail}")
        failed = [c.name for c in checks if c.status == diagnosis.FAIL]
        if failed:
            raise OperationFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")
        return ExitCode.OK

    from gb2.session import Session

    report = diagnosis.explain_failed_job(Session.open(profile), failed_job)
    if as_json:
        print_json(report.as_json())
        return 0
    job = report.job
    print(f"Job {job['JobID']} of project {job['JobGroup']} ({job['JobName']}), site {job['Site']}, "
          f"rescheduled {job['RescheduleCounter']} times")  # fmt: skip
    print(f"  Status            : {job['Status']}")
    print(f"  MinorStatus       : {job['MinorStatus']}")
    print(f"  ApplicationStatus : {job['ApplicationStatus']}")
    print(f"Cause: {report.cause}")
    print(f"What to do: {report.advice}")
    if report.log_name:
        print(f"Last lines of {report.log_name}:")
        for line in report.log_tail:
            print(f"  | {line}")
    else:
        print("No log: the job has no output sandbox yet.")
    return 0
