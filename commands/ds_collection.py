"""gb2_ds_collection: your own collections of datasets (create, add, remove, delete)."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option

_JSON = '{"collection", "action", "changed", "datasets"}'


@click.group(
    "gb2_ds_collection",
    context_settings=CONTEXT,
    help=f"""Manage your own collections of datasets.

A collection is one name for a set of datasets, usable wherever a dataset is:
gbasf2 -i, gb2_ds_get, gb2_ds_list, gb2_ds_query_dataset, and gb2_ds_search
collection --list_all_collections '/belle/user/<you>/collection/*'
(--list_datasets, --get_metadata). Yours live in your scope: NAME means
/belle/user/<you>/collection/NAME. Datasets are dataset LPNs (anyone's:
official ones, your projects); globs are expanded.

\b
  gb2_ds_collection create NAME [DATASET...] [--description TEXT]
  gb2_ds_collection add NAME DATASET...
  gb2_ds_collection remove NAME DATASET...
  gb2_ds_collection delete NAME        (the datasets stay)

In scripts pass -f/--force to delete: without a terminal to answer the Y/N
question the command stops (exit 2) and nothing is deleted.

\b
gb2 notes: gbasf2's gb2_ds_collection (create/update/delete) is the Data
Production team's tool for official collections under /belle/collection/;
this one manages yours. --json on each: {_JSON}
""",
)
def cli() -> None:
    pass


def _show(state, action: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from gb2.ui.output import print_json

    if as_json:
        print_json(state.as_json(action))
        return
    verb = {"create": "Created", "add": "Added to", "remove": "Removed from", "delete": "Deleted"}[action]
    print(f"{verb} {state.lpn}" + (f": {len(state.changed)} dataset(s)" if action in ("add", "remove") else ""))
    for lpn in state.changed if action in ("add", "remove") else []:
        print(f"  {lpn}")
    if action != "delete":
        print(f"{state.lpn} holds {len(state.datasets)} dataset(s):")
        for lpn in state.datasets:
            print(f"\t{lpn}")
    else:
        print(f"Its {len(state.changed)} dataset(s) are kept.")


@cli.command("create", context_settings=CONTEXT, help="Create the collection NAME, with DATASETs if given.")
@click.argument("name")
@click.argument("datasets", nargs=-1)
@click.option("--description", default=None, metavar="TEXT", help="What the collection is for (its metadata).")
@json_option
@common
def create(name: str, datasets: tuple[str, ...], description: str | None, as_json: bool, profile: str | None,
           debug: bool) -> None:  # fmt: skip
    from gb2.data import user_collections
    from gb2.session import Session

    session = Session.open(profile)
    _show(user_collections.create(session.rucio, session.username, name, list(datasets), description), "create", as_json)


def _membership_command(action: str, text: str) -> None:
    """``add`` and ``remove``: the same arguments, a different change."""

    @cli.command(action, context_settings=CONTEXT, help=text)
    @click.argument("name")
    @click.argument("datasets", nargs=-1, required=True)
    @json_option
    @common
    def command(name: str, datasets: tuple[str, ...], as_json: bool, profile: str | None, debug: bool) -> None:
        from gb2.data import user_collections
        from gb2.session import Session

        session = Session.open(profile)
        change = getattr(user_collections, action)
        _show(change(session.rucio, session.username, name, list(datasets)), action, as_json)


_membership_command("add", "Add DATASETs to the collection NAME (those in it are kept).")
_membership_command("remove", "Take DATASETs out of the collection NAME (they stay on the grid).")


@cli.command("delete", context_settings=CONTEXT, help="Delete the collection NAME; its datasets stay.")
@click.argument("name")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@json_option
@common
def delete(name: str, force: bool, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data import user_collections
    from gb2.errors import ExitCode
    from gb2.session import Session
    from gb2.ui.prompts import confirm

    session = Session.open(profile)
    lpn = user_collections.collection_lpn(name, session.username)
    if not confirm(f"Do you really want to delete the collection {lpn}?", force=force, what="delete"):
        print("Cancelled: nothing was deleted.")
        return ExitCode.FAILED
    _show(user_collections.delete(session.rucio, session.username, name), "delete", as_json)
    return ExitCode.OK
