"""gb2_ds_search: datasets by Dataset Searcher metadata, and collections, against the seeded catalogue."""

from __future__ import annotations

from gb2.server.rucio.seed import CHARGED, DATA, GENERIC_COLLECTION, SIGNAL, SKIM, UUBAR
from tests.cli import EXAMPLES, RELEASE


def lpns(grid, *args: str) -> list[str]:
    r = grid.run("gb2_ds_search", *args, "--json")
    assert r.code == 0, r.err
    return r.json()["datasets"]


def test_dataset_search_by_metadata(grid):
    r = grid.run("gb2_ds_search", "dataset", "--data_type", "mc", "--campaign", "MC15ri_b", "--mc_event", "uubar")
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["Matching datasets found:", f"\t{UUBAR.lpn}"]
    assert lpns(grid, "dataset", "--data_type", "data") == [DATA.lpn]
    assert lpns(grid, "dataset", "--campaign", "MC15*") == sorted([UUBAR.lpn, CHARGED.lpn, SIGNAL.lpn, SKIM.lpn])
    assert lpns(grid, "dataset", "--mc_event", "1111540100") == [SIGNAL.lpn]
    assert lpns(grid, "dataset", "--skim_decay", "14120601", "--bkg_level", "BGx1") == [SKIM.lpn]
    assert lpns(grid, "dataset", "--exp", "7-18") == sorted([DATA.lpn, SKIM.lpn])
    assert lpns(grid, "dataset", "--exp", "1003", "--data_level", "udst") == []
    assert lpns(grid, "dataset", "--prod", "25676-25678") == sorted([UUBAR.lpn, CHARGED.lpn])
    none = grid.run("gb2_ds_search", "dataset", "--campaign", "MC99")
    assert none.code == 0 and none.out.splitlines() == ["No dataset matches these criteria"] and none.err == ""


def test_search_output_feeds_gbasf2_input_dslist(grid, tmp_path):
    r = grid.run("gb2_ds_search", "dataset", "--campaign", "MC15ri_b", "--mc_event", "charged")
    (tmp_path / "found.txt").write_text(r.out)
    plan = grid.run("gbasf2", str(EXAMPLES / "ntuple_analysis.py"), "-p", "fromsearch", "-s", RELEASE,
                    "--input_dslist", str(tmp_path / "found.txt"), "--dryrun", "--json")  # fmt: skip
    assert plan.code == 0, plan.err
    assert plan.json()["input_files"] == CHARGED.n_files


def test_collections(grid):
    r = grid.run("gb2_ds_search", "collection", "--list_all_collections", "*")
    assert r.code == 0 and r.out.split() == [GENERIC_COLLECTION.lpn]
    assert grid.run("gb2_ds_search", "collection", "--list_all_collections", "MC/*_4S_*", "--json").json() == {
        "collections": [GENERIC_COLLECTION.lpn]}
    assert lpns(grid, "collection", "--list_datasets", GENERIC_COLLECTION.lpn) == sorted(GENERIC_COLLECTION.datasets)
    meta = grid.run("gb2_ds_search", "collection", "--get_metadata", GENERIC_COLLECTION.lpn)
    assert meta.code == 0 and "campaign_name  : MC15ri_b" in meta.out and "description" in meta.out


def test_bad_input(grid):
    for args, code, message in (
        (["dataset"], 2, "at least one criterion"),
        (["dataset", "--exp", "x"], 2, "expected a number or a range"),
        (["dataset", "--run", "5-2"], 2, "empty range"),
        (["dataset", "--data_type", "sim"], 2, "mc or data"),
        (["collection"], 2, "give one of"),
        (["collection", "--list_datasets", "/belle/MC/x"], 2, "not a collection"),
        (["collection", "--get_metadata", "/belle/collection/nope"], 5, "no collection"),
        (["nosuch"], 2, "No such command"),
    ):
        r = grid.run("gb2_ds_search", *args)
        assert r.code == code and message in r.err, (args, r.code, r.err)
        assert r.err.count("\n") == 1
