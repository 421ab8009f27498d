"""gb2_ds_query_dataset: dataset-level metadata."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, user_option


@click.command(
    "gb2_ds_query_dataset",
    context_settings=CONTEXT,
    help="""Show what a dataset is and where it is: its Dataset Searcher metadata
(data type, campaign, experiment, run, event type, release, global tag...), its
datablocks, files, events and size, and each storage element holding it with
how many of its files are available there, closest first, marked when the
storage element is down.

LPN is a dataset or datablock LPN, a collection, a project name or an absolute
glob; several may be given.

\b
--json  {"datasets": [{"lpn", "type", "metadata", "datablocks", "files", "events",
         "events_known", "bytes", "storage_elements": [{"se", "files", "bytes",
         "other_states", "complete", "se_down", "note"}]}]}
""",
)
@click.argument("names", nargs=-1, required=True, metavar="LPN...")
@user_option
@json_option
@common
def cli(names: tuple[str, ...], user: str | None, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data.dataset_info import dataset_info
    from gb2.data.datasets import targets
    from gb2.session import Session
    from gb2.ui.output import fields_block, human_bytes, print_json

    session = Session.open(profile)
    owner = user or session.username
    lpns = [lpn for name in names for lpn in targets(session.rucio, name, owner)]
    order = session.replica_order()
    infos = [dataset_info(session.rucio, lpn, order) for lpn in lpns]
    if as_json:
        print_json({"datasets": [i.as_json() for i in infos]})
        return 0
    for n, info in enumerate(infos):
        if n:
            print()
        events = "unknown" if info.events is None else (
            f"{info.events}" + ("" if info.events_known == info.files else f" (in {info.events_known} of {info.files} files)"))
        fields = [("lpn", info.lpn), ("type", info.type), *((k, str(v)) for k, v in info.metadata.items()),
                  ("datablocks", str(info.datablocks)), ("files", str(info.files)), ("events", events),
                  ("size", f"{human_bytes(info.bytes)} ({info.bytes} bytes)")]  # fmt: skip
        print(fields_block(fields))
        print("storage elements:" if info.storage else "storage elements: none")
        for s in info.storage:
            state = "complete" if s.complete else "incomplete"
            extra = (f", {s.other} in other states" if s.other else "") + (f" ({s.note})" if s.note else "")
            print(f"    {s.se}: {s.files} of {info.files} files available, {human_bytes(s.bytes)}, {state}{extra}")
    return 0
