"""gb2_ds_put: upload local files as a dataset in your own area."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_ds_put",
    context_settings=CONTEXT,
    help="""Upload the files in LOCAL_DIR as a dataset LPN in your own area
(/belle/user/<you>/...; a relative LPN is taken from there), on the storage
element SE.

Files go to LPN/sub00 (or --datablock subXX; 1000 files per datablock, in name
order). A folder holding only subXX folders (a downloaded dataset) keeps its
datablocks. Each file is read once, its adler32 computed while it streams and
checked against what the storage element stored, and it is registered with
its size, checksum and event count (read from the file where it records one).

Everything that could refuse the upload is checked before a byte is sent:
your own area and scope only, canonical file names, a TMP storage element,
enough quota. Running again uploads only what is missing: files registered
with the same content are skipped, files registered with other content are
refused (catalogue names never change content).

Exit status 0 only if every file is registered and verified.

\b
gb2 notes:
  -d        optional: the TMP storage element at your site (gb2_config site)
  --force, --parallel, --json are gb2 additions
  --json    {"ok", "lpn", "se", "uploaded", "already_present",
             "failed": [{"lfn", "reason"}], "bytes", "seconds"}
""",
)
@click.argument("lpn")
@click.option("-i", "--input_dir", "local_dir", required=True, type=click.Path(file_okay=False, exists=True),
              metavar="LOCAL_DIR", help="The folder whose files to upload.")  # fmt: skip
@click.option("-d", "--destination_se", "se", default=None, metavar="SE",
              help="Storage element to write to (a TMP one; see gb2_se_list).")  # fmt: skip
@click.option("--datablock", default=None, metavar="subXX", help="Datablock for the files (default sub00).")
@click.option("-f", "--force", is_flag=True, help="[gb2] Do not ask for confirmation.")
@click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True, help="[gb2] Parallel uploads.")
@json_option
@common
def cli(lpn: str, local_dir: str, se: str | None, datablock: str | None, force: bool, parallel: int,
        as_json: bool, profile: str | None, debug: bool) -> int:  # fmt: skip
    from pathlib import Path

    from gb2.data.upload import plan_put
    from gb2.session import Session
    from gb2.ui.transfers import run_put

    session = Session.open(profile)
    plan = plan_put(session.rucio, session.username, Path(local_dir), lpn, datablock)
    return run_put(session, plan, se, what="upload", headline=f"Upload {{files}} files ({{size}}) from "
                   f"{Path(local_dir).resolve()}", force=force, parallel=parallel, as_json=as_json)  # fmt: skip
