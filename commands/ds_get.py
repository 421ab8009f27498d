"""gb2_ds_get: download files, verified, in parallel."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, user_option


@click.command(
    "gb2_ds_get",
    context_settings=CONTEXT,
    help="""Download the files of DATASET (a project name, LPN, datablock, file LFN or
absolute glob) into ./<dataset>/subXX/ under the current directory.

Files are fetched in parallel, checked against the catalogue's adler32 while
streaming, and only then renamed to their final name; files already present and
verified are skipped, so running again completes or repairs a download (an
interrupted file resumes where it stopped). Only the newest reschedule
generation of each output is downloaded; older ones are reported.

Replicas are read closest first: the storage elements at your site, then the
next closest (gb2_config site); storage elements flagged down are skipped.
Every verified file is recorded in <dataset>/gb2_manifest.json (LFN, size,
adler32, job id, reschedule number, storage element, time): gb2_ds_verify
checks the tree against it offline, and a later gb2_ds_get trusts files that
are unchanged since.

Exit status 0 only if every file is present and verified (also when a glob
matches nothing: "No file found", as gbasf2 prints).

\b
gb2 notes:
  --new          accepted; gb2 always uses its parallel transfer code
  --failed_lfns  is always written (empty when nothing failed)
  --destination, --parallel, --json are gb2 additions
""",
)
@click.argument("datasets", nargs=-1, required=True, metavar="DATASET...")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--failed_lfns", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the LFNs that failed to this file (one per line).")
@click.option("--input_dslist", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Only download the LFNs listed in this file.")
@click.option("--se", default=None, metavar="SE", help="Download only from this storage element.")
@click.option("--new", is_flag=True, help="Accepted for gbasf2 compatibility (no effect).")
@click.option("-d", "--destination", type=click.Path(file_okay=False), default=".", show_default=True,
              help="[gb2] Directory to download into.")
@click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True, help="[gb2] Parallel transfers.")
@user_option
@json_option
@common
def cli(datasets, force, failed_lfns, input_dslist, se, new, destination, parallel, user, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    import sys
    from pathlib import Path

    from gb2.data.datasets import read_list_file
    from gb2.data.download import Downloader, plan_download, write_list
    from gb2.errors import ExitCode
    from gb2.session import Session
    from gb2.ui.output import human_bytes, print_json
    from gb2.ui.prompts import confirm
    from gb2.ui.transfers import transfer_progress

    session = Session.open(profile)
    owner = user or session.username
    only = set(read_list_file(input_dslist)) if input_dslist else None
    plan = plan_download(session.rucio, list(datasets), owner, Path(destination), only=only, se=se,
                         order=session.replica_order())
    if not plan.items and not plan.failed:
        if as_json:
            print_json({"ok": False, "files": 0, "reason": "No file found"})
        else:
            print("No file found")
        if failed_lfns:
            write_list(Path(failed_lfns), [])
        return ExitCode.OK  # nothing to download is not a failure (b2luigi relies on it)
    say = (lambda *a: None) if as_json else print
    say(f"Download {len(plan.items)} files ({human_bytes(plan.total_bytes)}) into {Path(destination).resolve()}")
    if plan.items and not confirm("Do you want to download these files?", force=force, what="download"):
        print("Download cancelled.")
        return ExitCode.FAILED
    progress, stop = transfer_progress(plan.total_bytes, len(plan.items), quiet=as_json)
    downloader = Downloader(lambda: {"Authorization": f"Bearer {session.diracx.access_token()}"},
                            parallel=parallel, progress=progress)  # fmt: skip
    try:
        outcome = downloader.run(plan)
    finally:
        stop()
    for warning in outcome.warnings:
        print(f"gb2_ds_get: warning: {warning}", file=sys.stderr)
    if failed_lfns:
        write_list(Path(failed_lfns), list(outcome.failed))
    if as_json:
        print_json(outcome.as_json())
        return ExitCode.OK if outcome.ok else ExitCode.FAILED
    where = Path(destination).resolve()
    print("Successfully downloaded files:")
    for lfn in sorted(outcome.downloaded):
        print(f"  {lfn} in {where}")
    if outcome.verified:
        print("Already present and verified (skipped):")
        for lfn in sorted(outcome.verified):
            print(f"  {lfn}")
    print("Failed files:")
    for lfn, reason in sorted(outcome.failed.items()):
        print(f"  {lfn}: {reason}")
    if outcome.superseded:
        print("Files with duplicated jobID, not downloaded:")
        for lfn in outcome.superseded:
            print(f"  {lfn}")
    rate = outcome.bytes / outcome.seconds / 1e6 if outcome.seconds > 0 else 0.0
    verdict = "complete: every file is present and verified" if outcome.ok else f"INCOMPLETE: {len(outcome.failed)} file(s) failed"
    print(f"{len(outcome.downloaded)} downloaded ({human_bytes(outcome.bytes)}, {rate:.1f} MB/s), "
          f"{len(outcome.verified)} already present, {len(outcome.failed)} failed: download {verdict}")  # fmt: skip
    return ExitCode.OK if outcome.ok else ExitCode.FAILED
