"""gb2_ds_list: ls for the grid catalogue."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, user_option


@click.command(
    "gb2_ds_list",
    context_settings=CONTEXT,
    help="""List what a dataset holds: a project or dataset LPN shows its datablocks,
a datablock its files, a collection its datasets. DATASET may be a project
name (/belle/user/<you>/<name>), an LPN, a file LFN or an absolute glob
(/belle/user/me/proj/sub*/*.root).

-l adds sizes (and file counts of collections); -lg adds the storage elements
that hold replicas, as lines "<SE-NAME>: replica <state>", closest first (the
storage elements at your site, then by the catalogue's distances; see
gb2_config site) and marked when a storage element is down. All reschedule
generations of an output are listed (gb2_ds_get downloads only the newest).

A glob that matches nothing says so and exits 0; a name that does not exist
exits 5.
""",
)
@click.argument("datasets", nargs=-1, required=True, metavar="DATASET...")
@click.option("-l", "--long", "long_", is_flag=True, help="Show sizes.")
@click.option("-g", "--location", is_flag=True, help="With -l: show replica storage elements.")
@user_option
@json_option
@common
def cli(datasets, long_, location, user, as_json, profile, debug) -> int:  # type: ignore[no-untyped-def]
    from gb2.data.datasets import list_entries, targets
    from gb2.session import Session
    from gb2.ui.output import human_bytes, print_json

    session = Session.open(profile)
    owner = user or session.username
    entries = []
    order = session.replica_order() if location else None
    unmatched = []
    for arg in datasets:
        names = targets(session.rucio, arg, owner)
        if not names:
            unmatched.append(arg)
        for lpn in names:
            entries.extend(list_entries(session.rucio, lpn, sizes=long_ or location, locations=location, order=order))
    if as_json:
        print_json({"entries": [e.as_json() for e in entries]})
        return 0
    for arg in unmatched:
        print(f"No dataset or file matches {arg}")
    for e in entries:
        if not (long_ or location):
            print(e.lfn)
            continue
        count = f"{e.files} files, " if e.files is not None else ""
        print(f"{e.lfn}  ({count}{human_bytes(e.bytes)})" if e.type != "FILE" else f"{e.lfn}  {e.bytes} bytes")
        if location:
            for r in e.replicas:
                print(f"    {r.se}: replica {r.state}" + (f" ({r.note})" if r.note else ""))
    return 0
