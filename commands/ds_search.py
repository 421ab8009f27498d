"""gb2_ds_search: the Dataset Searcher (datasets by metadata, collections)."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.group(
    "gb2_ds_search",
    context_settings=CONTEXT,
    help="""Find official datasets by their metadata, and look into collections.

\b
  gb2_ds_search dataset --data_type mc --campaign MC15ri_b --mc_event uubar
  gb2_ds_search collection --list_all_collections '*'
  gb2_ds_search collection --list_datasets /belle/collection/MC/<name>

The output of "dataset" and "--list_datasets" (one LPN per line after the
header) can be saved and given to gbasf2 --input_dslist.
""",
)
def cli() -> None:
    pass


#: gbasf2's flags first, then gb2's: (name, metavar, help).
DATASET_OPTIONS = (
    ("data_type", "mc|data", "MC or data."),
    ("campaign", "NAME", "Campaign, e.g. MC15ri_b or proc13."),
    ("beam_energy", "E", "Beam energy, e.g. 4S."),
    ("mc_event", "TYPE", "MC event type, e.g. uubar, charged or 1111540100."),
    ("bkg_level", "LEVEL", "Background level, e.g. BGx1."),
    ("skim_decay", "CODE", "Skim decay code, e.g. 14120601."),
    ("general_skim", "NAME", "[gb2] General skim name, e.g. hadron."),
    ("data_level", "LEVEL", "[gb2] mdst, udst, ..."),
    ("release", "RELEASE", "[gb2] Processing release, e.g. release-06-00-08."),
    ("global_tag", "TAG", "[gb2] Global tag, e.g. DB00002100."),
    ("exp", "N[-M]", "[gb2] Experiment number or range."),
    ("run", "N[-M]", "[gb2] Run number or range."),
    ("prod", "N[-M]", "[gb2] Production id or range."),
)


def dataset_options(f):  # type: ignore[no-untyped-def]
    for name, metavar, text in reversed(DATASET_OPTIONS):
        f = click.option(f"--{name}", metavar=metavar, help=text)(f)
    return f


def _print_lpns(lpns: list[str], as_json: bool, key: str, none: str) -> None:
    """gbasf2's header and one LPN per line; when nothing matched, one line that says so
    (exit 0: a search that matches nothing is not an error)."""
    from gb2.data.datasets import SEARCH_HEADER
    from gb2.ui.output import print_json

    if as_json:
        print_json({key: lpns})
        return
    if not lpns:
        print(none)
        return
    print(SEARCH_HEADER)
    for lpn in lpns:
        print(f"\t{lpn}")


@cli.command(
    "dataset",
    context_settings=CONTEXT,
    help="""Datasets whose Dataset Searcher metadata match every criterion given.

--exp, --run and --prod take a number or an inclusive range (--exp 7-12); text
values take * wildcards (--campaign 'MC15*'). Prints "Matching datasets found:"
and one LPN per line (gbasf2's layout), or {"datasets": [...]} with --json.
When nothing matches it prints "No dataset matches these criteria" (exit 0).

\b
gb2 additions: --exp, --run, --prod, --release, --global_tag, --data_level,
--general_skim (gbasf2 has further filters whose flag names are not public).""",
)
@dataset_options
@json_option
@common
def dataset(as_json: bool, profile: str | None, debug: bool, **criteria: str | None) -> int:
    from gb2.data.search import search_datasets
    from gb2.session import Session

    lpns = search_datasets(Session.open(profile).rucio, criteria)
    _print_lpns(lpns, as_json, "datasets", "No dataset matches these criteria")
    return 0


@cli.command(
    "collection",
    context_settings=CONTEXT,
    help="""Collections: list them, their datasets, or their metadata.

Give exactly one of the three options. Official collections live under
/belle/collection/ (a relative glob is taken from there); yours under
/belle/user/<you>/collection/ (see gb2_ds_collection).""",
)
@click.option("--list_all_collections", "pattern", metavar="GLOB", help="Collections matching a glob, e.g. '*'.")
@click.option("--list_datasets", "datasets_of", metavar="COLLECTION", help="The datasets of a collection.")
@click.option("--get_metadata", "metadata_of", metavar="COLLECTION", help="The metadata of a collection.")
@json_option
@common
def collection(pattern: str | None, datasets_of: str | None, metadata_of: str | None, as_json: bool,
               profile: str | None, debug: bool) -> int:  # fmt: skip
    from gb2.data import search
    from gb2.errors import BadInput
    from gb2.session import Session
    from gb2.ui.output import fields_block, print_json

    if sum(x is not None for x in (pattern, datasets_of, metadata_of)) != 1:
        raise BadInput("give one of --list_all_collections GLOB, --list_datasets COLLECTION, --get_metadata COLLECTION")
    rucio = Session.open(profile).rucio
    if pattern is not None:
        names = search.list_collections(rucio, pattern)
        if as_json:
            print_json({"collections": names})
        else:
            print("\n".join(names) if names else f"No collection matches {pattern!r}")
    elif datasets_of is not None:
        _print_lpns(search.collection_datasets(rucio, datasets_of), as_json, "datasets",
                    f"No dataset in {datasets_of}")
    else:
        meta = search.collection_metadata(rucio, metadata_of or "")
        if as_json:
            print_json({"collection": metadata_of, "metadata": meta})
        else:
            print(fields_block([(k, str(v)) for k, v in sorted(meta.items())]))
    return 0
