"""gb2_diagnostic: check the set-up, or explain a failed job."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, not_empty


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

--waiting_job ID: why the job waits: no site matches it (its --site, banned
sites, platform), its input's replicas are only at banned or unhealthy sites
or on storage that is down, its sites are banned or full, or jobs of yours
come first by priority; with what to do.

\b
gb2 additions:
  -p PROJECT  the project's failed jobs in clusters, by cause and by the
              signature of their logs, each with what to do and a command
              (as gb2_project_analysis -p PROJECT --failures)
  --json      {"checks": [{"name", "status", "detail"}], "ok"};
              --failed_job: {"job", "cause", "advice", "log_file", "log_tail"};
              --waiting_job: {"job", "waiting_seconds", "candidate_sites",
              "reasons": [{"reason", "detail", "advice", "command"}], "notes"};
              -p: as gb2_project_analysis --failures --json
""",
)
@click.option("--failed_job", type=click.IntRange(1, 2**63 - 1), metavar="ID", default=None,
              help="Explain why this job failed.")
@click.option("--waiting_job", type=click.IntRange(1, 2**63 - 1), metavar="ID", default=None,
              help="Explain why this job waits.")
@click.option("-p", "--project", default=None, metavar="PROJECT", callback=not_empty("a project"),
              help="[gb2] The project's failures in clusters, with what to do.")
@json_option
@common
def cli(failed_job: int | None, waiting_job: int | None, project: str | None, as_json: bool, profile: str | None,
        debug: bool) -> int:  # fmt: skip
    from gb2.errors import BadInput, ExitCode, OperationFailed
    from gb2.jobs import diagnosis
    from gb2.ui.output import print_json

    if sum(x is not None for x in (failed_job, waiting_job, project)) > 1:
        raise BadInput("give one of --failed_job, --waiting_job and -p")
    if waiting_job is not None:
        return _waiting(profile, waiting_job, as_json)
    if project is not None:
        return _failures(profile, project, as_json)
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


def _waiting(profile: str | None, job_id: int, as_json: bool) -> int:
    from gb2.jobs.waiting import explain_waiting
    from gb2.session import Session
    from gb2.ui.output import print_json

    report = explain_waiting(Session.open(profile), job_id)
    if as_json:
        print_json(report.as_json())
        return 0
    job = report.job
    waited = f", last change {report.waited_seconds:.0f} s ago" if report.waited_seconds is not None else ""
    print(f"Job {job['JobID']} of project {job['JobGroup']} ({job['JobName']}): {job['Status']} "
          f"({job['MinorStatus']}), priority {job['UserPriority']}{waited}")  # fmt: skip
    if report.candidates is not None:
        print(f"Sites that may run it: {', '.join(report.candidates) or 'none'}")
    for reason in report.reasons:
        print(f"Why: {reason.detail}")
        print(f"What to do: {reason.advice}" + (f": {reason.command}" if reason.command else ""))
    for note in report.notes:
        print(f"Note: {note}")
    return 0


def _failures(profile: str | None, project: str, as_json: bool) -> int:
    from gb2.jobs.clusters import failure_clusters
    from gb2.jobs.status import resolve_selection
    from gb2.session import Session
    from gb2.ui.failures import print_failures
    from gb2.ui.output import print_json

    session = Session.open(profile)
    report = failure_clusters(session.diracx, resolve_selection(session, [project]), user=session.username)
    if as_json:
        print_json(report.as_json())
    else:
        print_failures(report)
    return 0
