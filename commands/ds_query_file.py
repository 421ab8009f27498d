"""gb2_ds_query_file: metadata of files, one line each."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_ds_query_file",
    context_settings=CONTEXT,
    help="""Show metadata of files: one line per file, `<lfn> | key: value | ...`.

Each argument is a project, a dataset or datablock LPN, a file LFN or an
absolute glob ('/belle/user/<you>/<project>/sub*/*.root').

-m takes comma-separated keys among lfn, nEvents, size, adler32, ses (the
storage elements holding a replica) and jobId (the job that wrote the file);
the default is lfn,nEvents,size,adler32.

A glob that matches nothing prints "No file found" and exits 0; a name that
does not exist exits 5.

\b
gb2 addition: --json  {"files": [{<key>: value}]}
""",
)
@click.argument("names", nargs=-1, required=True)
@click.option("-m", "--metadata", "keys", metavar="KEYS", default=None, help="Comma-separated keys to show.")
@json_option
@common
def cli(names: tuple[str, ...], keys: str | None, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data.filemeta import format_row, parse_keys, query_files
    from gb2.session import Session
    from gb2.ui.output import print_json

    wanted = parse_keys(keys)
    session = Session.open(profile)
    rows = query_files(session.rucio, names, session.username, wanted)
    if as_json:
        print_json({"files": rows})
    elif not rows:
        print("No file found")
    else:
        for row in rows:
            print(format_row(row))
    return 0
