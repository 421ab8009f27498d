"""gb2_ds_get: download files, verified, in parallel."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, se_option, user_option


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

Exit status 0 only if every file is present and verified. A glob that matches
nothing prints "No file found" and exits 0 (as gbasf2; b2luigi relies on it); a
project or dataset that does not exist exits 5. In scripts pass -f/--force:
without a terminal to answer the Y/N question the command stops (exit 2).

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
@se_option("Download only from this storage element.")
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
    from gb2.data.download import Downloader, Outcome, plan_download, write_list
    from gb2.data.storage_elements import require_ses
    from gb2.errors import BadInput, ExitCode
    from gb2.fileio import check_output_dir, check_output_file
    from gb2.session import Session
    from gb2.ui.output import human_bytes, print_json
    from gb2.ui.prompts import confirm
    from gb2.ui.transfers import transfer_progress

    # Local mistakes cost nothing: they are found before any catalogue call.
    dest = check_output_dir(Path(destination), "-d/--destination")
    if failed_lfns:
        check_output_file(Path(failed_lfns), "--failed_lfns")
    only = None
    if input_dslist:
        only = set(read_list_file(input_dslist))
        if not only:
            raise BadInput(f"--input_dslist {input_dslist} lists no LFNs")
    session = Session.open(profile)
    owner = user or session.username
    if se is not None:
        require_ses(session.rucio, {"--se": se})
    plan = plan_download(session.rucio, list(datasets), owner, dest, only=only, se=se,
                         order=session.replica_order())
    if not plan.items and not plan.failed:
        # Nothing matched (a glob) or the dataset is empty: not an error, and b2luigi
        # relies on exit 0 with "No file found" on stdout here.
        if failed_lfns:
            write_list(Path(failed_lfns), [])
        if as_json:
            print_json({**Outcome().as_json(), "reason": "No file found"})
        else:
            print("No file found")
        return ExitCode.OK
    say = (lambda *a: None) if as_json else print
    where = dest.resolve()
    present = [item for item in plan.items if item.target.is_file()]
    todo = len(plan.items) - len(present)
    if todo:
        size = human_bytes(plan.total_bytes - sum(item.bytes or 0 for item in present))
        also = f"; {len(present)} already there are verified, not fetched again" if present else ""
        say(f"Download {todo} files ({size}) into {where}{also}")
    elif present:
        say(f"All {len(present)} files are already in {where}: verifying them")
    if todo:
        confirm("Do you want to download these files?", force=force, what="download", nothing="nothing was downloaded")
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
        return _verdict(outcome, len(plan.items) + len(plan.failed), failed_lfns)
    _listing("Successfully downloaded files:", [f"{lfn} in {where}" for lfn in sorted(outcome.downloaded)])
    _listing("Already present and verified (skipped):", sorted(outcome.verified))
    _listing("Failed files:", [f"{lfn}: {reason}" for lfn, reason in sorted(outcome.failed.items())])
    _listing("Files with duplicated jobID, not downloaded:", outcome.superseded)
    rate = outcome.bytes / outcome.seconds / 1e6 if outcome.seconds > 0 else 0.0
    verdict = "complete: every file is present and verified" if outcome.ok else f"INCOMPLETE: {len(outcome.failed)} file(s) failed"
    print(f"{len(outcome.downloaded)} downloaded ({human_bytes(outcome.bytes)}, {rate:.1f} MB/s), "
          f"{len(outcome.verified)} already present, {len(outcome.failed)} failed: download {verdict}")  # fmt: skip
    return _verdict(outcome, len(plan.items) + len(plan.failed), failed_lfns)


def _verdict(outcome, total: int, failed_lfns: str | None) -> int:  # type: ignore[no-untyped-def]
    """Exit 0 only if every file is present and verified; otherwise one line on stderr."""
    from gb2.errors import ExitCode, OperationFailed

    if outcome.ok:
        return ExitCode.OK
    lfn, reason = min(outcome.failed.items())
    listed = f"; all are listed in {failed_lfns}" if failed_lfns else ""
    raise OperationFailed(f"{len(outcome.failed)} of {total} files failed ({lfn}: {reason}){listed}")


def _listing(heading: str, lines: list[str]) -> None:
    """A heading and its indented lines; nothing at all when there are none."""
    if lines:
        print(heading)
        for line in lines:
            print(f"  {line}")
