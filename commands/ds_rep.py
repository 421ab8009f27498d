"""gb2_ds_rep and gb2_ds_rep_status: replicate datasets to another SE, and follow it."""

from __future__ import annotations

from typing import Any

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_ds_rep",
    context_settings=CONTEXT,
    help="""Replicate a dataset or datablock to another storage element.

LPN is a project, a dataset or datablock LPN, or an absolute glob. Each of its
datablocks gets a Rucio rule for one copy at the destination SE (-d), read
from the source SE (-s) if given. User data may go only to TMP storage
elements (gb2_se_list shows them). Follow the copies with gb2_ds_rep_status;
download from the new replica with gb2_ds_get --se.

In scripts pass -f/--force: without a terminal to answer the Y/N question the
command stops (exit 2) and nothing is replicated.

\b
gb2 addition: --json  {"se", "rules": {datablock: rule id}}
""",
)
@click.argument("lpn")
@click.option("-d", "--destination", "dest", required=True, metavar="SE", help="Destination storage element.")
@click.option("-s", "--source", metavar="SE", default=None, help="Read from this storage element.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@json_option
@common
def rep(lpn: str, dest: str, source: str | None, force: bool, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data import replication
    from gb2.session import Session
    from gb2.ui.output import print_json
    from gb2.ui.prompts import confirm

    session = Session.open(profile)
    rucio = session.rucio
    replication.check_ses(rucio, dest, source)
    blocks = replication.datablocks(rucio, lpn, session.username)
    if not blocks:
        if as_json:
            print_json({"se": dest, "rules": {}})
        else:
            print(f"No datablock matches {lpn}: nothing to replicate")
        return 0
    if not as_json:
        print(f"{len(blocks)} datablocks to replicate to {dest}")
    confirm(f"Do you want to replicate {len(blocks)} datablocks to {dest}?", force=force, what="replicate",
            nothing="nothing was replicated")  # fmt: skip
    rules = replication.replicate(rucio, blocks, dest, source)
    if as_json:
        print_json({"se": dest, "rules": rules})
    else:
        for block, rule_id in rules.items():
            print(f"{block}: rule {rule_id}")
        print(f"Follow with: gb2_ds_rep_status {lpn}")
    return 0


@click.command(
    "gb2_ds_rep_status",
    context_settings=CONTEXT,
    help="""Show how far the replications of a dataset have got.

One row per replication rule of each datablock: the SE, the rule's state (OK,
REPLICATING, STUCK), and the number of files copied, being copied and stuck.
Exit 0 when every rule is OK, 1 otherwise (a script can poll on it).

\b
gb2 addition: --json  {"rules": [{"datablock", "rule_id", "se", "state", "ok",
  "replicating", "stuck"}], "complete"}
""",
)
@click.argument("lpn")
@json_option
@common
def rep_status(lpn: str, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data import replication
    from gb2.errors import ExitCode, OperationFailed
    from gb2.session import Session
    from gb2.ui.output import plain_table, print_json

    session = Session.open(profile)
    blocks = replication.datablocks(session.rucio, lpn, session.username)
    rows = replication.rule_statuses(session.rucio, blocks)
    complete = bool(rows) and all(r.state == "OK" for r in rows)
    if not blocks:
        if as_json:
            print_json({"rules": [], "complete": True})
        else:
            print(f"No datablock matches {lpn}")
        return ExitCode.OK
    if as_json:
        print_json({"rules": [r.as_json() for r in rows], "complete": complete})
    elif rows:
        plain_table(("Datablock", "SE", "State", "OK", "Replicating", "Stuck"),
                    [(r.datablock, r.rse_expression, r.state, r.ok, r.replicating, r.stuck) for r in rows])  # fmt: skip
    else:
        print(f"No replication rule for {lpn}.")
    if not complete:
        waiting = sum(1 for r in rows if r.state != "OK")
        raise OperationFailed(f"{waiting} of {len(rows)} replication rules are not OK yet" if rows
                              else f"no replication rule for {lpn}")  # fmt: skip
    return ExitCode.OK


COMMANDS: dict[str, Any] = {"gb2_ds_rep": rep, "gb2_ds_rep_status": rep_status}
