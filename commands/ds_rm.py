"""gb2_ds_rm: remove one of your projects, datasets or datablocks from the grid."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_ds_rm",
    context_settings=CONTEXT,
    help="""Remove one of your projects, datasets or datablocks, with its files.

TARGET is a project name (/belle/user/<you>/<project>), or the LPN of one of
your datasets or datablocks (.../sub00). It is removed as `rucio erase` does:
the catalogue deletes it and its files within minutes (on the embedded grid at
once). Only your own data under /belle/user/<you>/ can be removed.

A project whose jobs have not all ended is refused: kill them first
(gb2_job_kill -p <project>). The project name stays used: gbasf2 and gb2 never
reuse a project name.

In scripts pass -f/--force: without a terminal to answer the Y/N question the
command stops (exit 2) and nothing is removed. Exit 4 for official data or
another user's, 5 when the target does not exist.

\b
gb2 additions:
  --json      {"lpn", "type", "files", "bytes", "removed"}
""",
)
@click.argument("target")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@json_option
@common
def cli(target: str, force: bool, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data import remove
    from gb2.errors import BadInput
    from gb2.session import Session
    from gb2.ui.output import human_bytes, print_json
    from gb2.ui.prompts import confirm

    session = Session.open(profile)
    removal = remove.plan_removal(session, target)
    running = remove.active_jobs(session, removal)
    if running:
        project = removal.lpn.split("/")[4]
        raise BadInput(f"project {project} still has {running} jobs that have not ended: "
                       f"kill them first (gb2_job_kill -p {project}) or wait")  # fmt: skip
    what = f"{removal.lpn} ({removal.files} files, {human_bytes(removal.bytes)})"
    if not as_json:
        print(f"To remove: {what}")
    confirm(f"Do you really want to remove {what}?", force=force, what="remove", nothing="nothing was removed")
    remove.remove(session, removal)
    if as_json:
        print_json({**removal.as_json(), "removed": True})
    else:
        print(f"Removed {removal.lpn}: the catalogue deletes its {removal.files} files.")
    return 0
