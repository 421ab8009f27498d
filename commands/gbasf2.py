"""gbasf2: submit a steering file as a project."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, greedy, json_option, split_values


class _Grouping(click.Choice):
    """site or size. b2luigi 1.3.0 passes the word's letters as separate values
    ("--input_grouping s i t e"): single letters pass here and are joined by _grouping."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        return value if isinstance(value, str) and len(value) == 1 else super().convert(value, param, ctx)


GROUPING = _Grouping(["site", "size"])


class FilesPerJob(click.ParamType):
    """``-n``: a number of files per job, or ``auto`` (sized from the scouts)."""

    name = "N|auto"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, int) or value == "auto":
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r} is not a number of files (1 or more) nor 'auto'", param, ctx)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.replace(",", " ").split() if v.strip()]


@click.command(
    "gbasf2",
    cls=greedy("-f", "--inputsandboxfiles", "--input_datafiles", "-i", "--input", "--site", "--banned_site",
               "--input_grouping"),
    context_settings=CONTEXT,
    help="""Submit STEERING (a basf2 steering file) as a project of grid jobs.

One job per input file (or per -n files). The steering file's syntax, the
options, the release (against the releases the grid offers: gb2_check_release),
the inputs and the output location are checked before anything is submitted; a
summary is shown and you are asked Y/N. In scripts pass --force: on a
non-interactive stdin gbasf2 stops (exit 2) instead of asking.
Outputs go to /belle/user/<you>/<project>/subXX/ as
<stem>_<index>_job<JobID>_<reschedule>.<ext>.

Input (-i) may be a dataset LPN, a datablock (.../subXX), a file LFN or a
collection (/belle/collection/...). List options take several values,
comma- or space-separated (-f a.so b.xml), as in gbasf2.

Scout jobs: a project of 5 jobs or more gets 2 scout jobs (--scouts K for
any project), clones of its jobs over at most --scout_events events that
upload nothing. The other jobs run only once every scout is Done, and never
if one fails. gb2_job_status -p and gb2_project_summary -p then show the
scouts' report (events/s, CPU per event, memory, output per event) and a
forecast for the project (CPU hours, output against your quota, job length
against the CPU-time limit, wall time). On a DiracX without scouting gb2
holds the other jobs itself and the next gb2 command that looks at the
project submits them. --noscout runs no scouts.

\b
gb2 additions and differences:
  --resume       submit the missing jobs of an existing project (same options);
                 a project removed with gb2_ds_rm cannot be resumed
  --repetition N with -i: each input job runs N times, with its own output
                 index and random seed (without -i: N input-less jobs)
  --basf2opt     reaches basf2 intact in any form (-n5, '-n 5', --random-seed=1)
  --json         machine-readable plan or result
  --scouts K     scout jobs (default 2 for projects of 5 jobs or more)
  --scout_events N  events per scout, at most (default 100)
  --scout_local  run one scout here first, show its report and forecast, ask
  -n auto        files per job from the scouts' speed, for --job_hours H per
                 job (default 4)
  --use_flagged_sites
                 keep the sites gb2_site_status flags (a failure rate well
                 above the VO's): by default they are left out of the plan
                 (added to the banned sites), and the plan says so
""",
)
@click.argument("steering", type=click.Path(dir_okay=False))
@click.option("-p", "--project", required=True, help="Project name: at most 32 letters, digits or + - _; never reused.")
@click.option("-s", "--release", "--setting", "release", required=True, help="basf2 release, e.g. light-2511-gacrux.")
@click.option("-i", "--input", "inputs", multiple=True, metavar="LPN", help="Input dataset(s), comma-separated.")
@click.option("--input_dslist", type=click.Path(dir_okay=False), default=None, help="File listing input LPNs, one per line.")
@click.option("-n", "files_per_job", type=FilesPerJob(), default="1", show_default=True, metavar="N|auto",
              help="Input files per job; [gb2] auto: sized from the scouts (see --job_hours).")
@click.option("-f", "--inputsandboxfiles", "sandbox_files", multiple=True, metavar="FILE", help="Extra input-sandbox files (10 MB in all).")
@click.option("--lfn_sandboxfiles", is_flag=True, help="Ship -f files as grid files (lifts the 10 MB limit).")
@click.option("--input_datafiles", multiple=True, metavar="LFN", help="Extra grid files to download next to the input.")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dryrun", "--dry_run", "dryrun", is_flag=True, help="Show the plan; submit nothing.")
@click.option("--cputime", type=click.IntRange(1, 100_000), default=None, help="Estimated CPU time per job (minutes).")
@click.option("--evtpersec", type=click.FloatRange(0, min_open=True), default=None, help="Estimated events per second (default 100).")
@click.option("--priority", type=click.IntRange(0, 10), default=1, show_default=True, help="Job priority, 0..10.")
@click.option("--site", "sites", multiple=True, metavar="SITE", help="Run only at these sites (comma-separated).")
@click.option("--banned_site", "banned", multiple=True, metavar="SITE", help="Never run at these sites.")
@click.option("--platform", default=None, help="Worker platform (e.g. EL9).")
@click.option("--input_grouping", type=GROUPING, multiple=True,
              help="site (default): a job's files share a storage element; size: balance input sizes.")
@click.option("--jobtype", default="User", show_default=True, help="DIRAC job type.")
@click.option("--basf2opt", default="", metavar="OPTS", help="Extra basf2 arguments, e.g. '-n 100'.")
@click.option("--repetition", type=click.IntRange(1, 100_000), default=None,
              help="Jobs of an input-less project; with -i, runs of each input job.")
@click.option("--output_ds", default=None, metavar="LPN", help="Output dataset LPN (default /belle/user/<you>/<project>).")
@click.option("--noscout", is_flag=True, help="Do not run scout jobs first.")
@click.option("--scouts", type=click.IntRange(1, 20), default=None, metavar="K",  # 20: gb2.jobs.status.MAX_SCOUTS
              help="[gb2] Scout jobs to run first (default: 2 for projects of 5 jobs or more).")
@click.option("--scout_events", type=click.IntRange(1), default=100, show_default=True, metavar="N",
              help="[gb2] Events each scout processes, at most.")
@click.option("--scout_local", is_flag=True, help="[gb2] Run one scout on this machine first; show its forecast.")
@click.option("--job_hours", type=click.FloatRange(0, 500, min_open=True), default=None, metavar="H",
              help="[gb2] Target job length for -n auto (default 4 hours).")
@click.option("--resume", is_flag=True, help="[gb2] Submit the missing jobs of an existing project.")
@click.option("--use_flagged_sites", is_flag=True, help="[gb2] Keep the sites gb2_site_status flags in the plan.")
@json_option
@common
def cli(steering, project, release, inputs, input_dslist, files_per_job, sandbox_files, lfn_sandboxfiles,  # type: ignore[no-untyped-def]
        input_datafiles, force, dryrun, cputime, evtpersec, priority, sites, banned, platform, input_grouping,
        jobtype, basf2opt, repetition, output_ds, noscout, scouts, scout_events, scout_local, job_hours, resume,
        use_flagged_sites, as_json, profile, debug) -> int:  # fmt: skip
    from pathlib import Path

    from gb2.jobs import project as prj
    from gb2.login import hhmmss, proxy_info
    from gb2.session import Session
    from gb2.ui.output import print_json
    from gb2.ui.prompts import confirm

    auto = files_per_job == "auto"
    request = prj.Request(
        steering=Path(steering), project=project, release=release, inputs=split_values(inputs, "-i/--input"),
        input_dslist=Path(input_dslist) if input_dslist else None, files_per_job=1 if auto else files_per_job,
        sandbox_files=[Path(p) for p in _split(sandbox_files)], lfn_sandboxfiles=lfn_sandboxfiles,
        input_datafiles=_split(input_datafiles), cputime=cputime, evtpersec=evtpersec, priority=priority,
        sites=_split(sites), banned_sites=_split(banned), platform=platform, input_grouping=_grouping(input_grouping),
        jobtype=jobtype, basf2opt=basf2opt, repetition=repetition, output_ds=output_ds, noscout=noscout,
        resume=resume, scouts=scouts, scout_events=scout_events, scout_local=scout_local, auto_files=auto,
        job_hours=job_hours, use_flagged_sites=use_flagged_sites,
    )  # fmt: skip
    prj.check_request(request)  # before any network call: bad input costs nothing
    session = Session.open(profile)
    plan = prj.make_plan(session, request)
    local = None
    if scout_local:
        from gb2.jobs.localscout import scout_before_submission

        if not as_json:
            print(f"Running one scout of {project} on this machine (up to {scout_events} events)...", flush=True)
        local = scout_before_submission(session, plan)
    info = proxy_info(session)
    extra = {"local_scout": local.as_json()} if local else {}
    if as_json and dryrun:
        print_json({**plan.as_json(), **extra, "dryrun": True})
        return 0
    if not as_json:
        if local:
            from gb2.ui.scouting import report_lines

            print("\n".join(report_lines(local.report, local.forecast, local.sizing)))
        print(prj.summary_block(plan, hhmmss(info.seconds_left if info else 0)))
        for note in plan.notes:
            print(note)
    if dryrun:
        print("Dry run: nothing was submitted.")
        return 0
    confirm("Are you sure to submit the project?", force=force, what="submit", nothing="nothing was submitted")
    result = prj.submit(session, plan, progress=_progress(len(plan.jobs), as_json))
    if as_json:
        print_json({**plan.as_json(), **extra, "job_ids": result.job_ids, "new_job_ids": result.new_ids,
                    "scout_ids": result.scout_ids, "held": result.held, "already_present": result.already_present,
                    "duplicates_removed": result.duplicates_removed})  # fmt: skip
        return 0
    if result.scout_ids and not result.job_ids:
        print(f"{len(result.scout_ids)} scout jobs submitted to project {project}: {prj.compact_ids(result.scout_ids)}")
        held = f"{result.held} jobs are" if result.held >= 0 else "The other jobs (sized from the scouts) are"
        print(f"{held} held by gb2 until the scouts pass: the next gb2 command that looks at the project "
              f"(gb2_job_status -p {project}, on any machine) submits them.")  # fmt: skip
    else:
        new_ids = result.new_ids
        if new_ids:
            print(f"{len(new_ids)} jobs submitted to project {project}: {prj.compact_ids(new_ids)}")
        else:
            print(f"Nothing to submit: all {len(result.job_ids)} jobs of project {project} were already submitted.")
        if result.scout_ids:
            print(f"{len(result.scout_ids)} scout jobs: {prj.compact_ids(result.scout_ids)} "
                  "(the jobs wait in status Scouting until the scouts pass)")  # fmt: skip
        if new_ids and result.already_present:
            print(f"({result.already_present} jobs of the project were already submitted and were left alone)")
    print(f"Follow them with: gb2_job_status -p {project}   (or gb2_project_summary -p {project} --wait)")
    return 0


def _grouping(values: tuple[str, ...]) -> str:
    """--input_grouping's value; b2luigi 1.3.0 spells "site" as "s i t e" (it joins the
    string's letters with spaces), which is accepted as the same word."""
    return "".join(values) if values else "site"


def _progress(total: int, quiet: bool):  # type: ignore[no-untyped-def]
    """A progress callback for big submissions on a terminal."""
    import sys

    if quiet or total < 200 or not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("submitting", total=total)
    bar.start()

    def advance(n: int) -> None:
        bar.advance(task, n)
        if bar.tasks[0].completed >= total:
            bar.stop()

    return advance
