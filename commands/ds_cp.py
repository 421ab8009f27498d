"""gb2_ds_cp: copy a dataset or datablock into your own area."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, user_option


@click.command(
    "gb2_ds_cp",
    context_settings=CONTEXT,
    help="""Copy the dataset or datablock SRC_LPN (anyone's: official data, a project,
another user's dataset) to DEST_LPN in your own area (/belle/user/<you>/...;
a relative name is taken from there), on the storage element SE.

The copy is a new dataset with new files and new replicas, never pointing at
the original's: each file is read from the closest healthy replica of the
source, streamed to SE with adler32 computed on the way, checked against the
source's catalogue checksum and what SE stored, and registered with its size,
checksum and events. Datablocks keep their names (a datablock copied to a
dataset LPN goes to the same subXX; DEST_LPN may name the datablock itself).
The source's Dataset Searcher metadata goes with a dataset.

Running again copies only what is missing. Exit status 0 only if every file
was copied and verified.

\b
gb2 notes:
  -d        optional: the TMP storage element at your site (gb2_config site)
  --json    {"ok", "lpn", "se", "uploaded", "already_present",
             "failed": [{"lfn", "reason"}], "bytes", "seconds"}
""",
)
@click.argument("source", metavar="SRC_LPN")
@click.argument("dest", metavar="DEST_LPN")
@click.option("-d", "--destination_se", "se", default=None, metavar="SE",
              help="Storage element to write to (a TMP one; see gb2_se_list).")  # fmt: skip
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True, help="[gb2] Parallel copies.")
@user_option
@json_option
@common
def cli(source: str, dest: str, se: str | None, force: bool, parallel: int, user: str | None, as_json: bool,
        profile: str | None, debug: bool) -> int:  # fmt: skip
    from gb2.data.upload import plan_copy
    from gb2.session import Session
    from gb2.ui.transfers import run_put

    session = Session.open(profile)
    plan = plan_copy(session.rucio, session.username, _source(source, user), dest, order=session.replica_order())
    return run_put(session, plan, se, what="copy", headline="Copy {files} files ({size})", force=force,
                   parallel=parallel, as_json=as_json)


def _source(source: str, user: str | None) -> str:
    """``-u USER``: a relative SRC_LPN is that user's project or dataset."""
    if user and not source.startswith("/"):
        return f"/belle/user/{user}/{source}"
    return source
