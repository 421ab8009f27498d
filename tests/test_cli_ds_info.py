"""gb2_ds_query_dataset, gb2_check_quota and gb2_ds_collection as users run them."""

from __future__ import annotations

import os

from gb2.server.rucio import quotas, rse_status
from tests.cli import CHARGED, COLLECTION, EXAMPLES, SIGNAL, UUBAR, submit


def test_query_dataset_shows_searcher_keys_counts_and_storage(grid, monkeypatch):
    monkeypatch.setenv("GB2_SITE", "LCG.KEK.jp")
    (info,) = grid.run("gb2_ds_query_dataset", UUBAR, "--json").json()["datasets"]
    assert info["lpn"] == UUBAR and info["type"] == "dataset" and info["datablocks"] == 1
    assert info["metadata"]["mc_event_type"] == "uubar" and info["metadata"]["experiment"] == 1003
    listing = grid.run("gb2_ds_query_file", UUBAR, "-m", "lfn,nEvents,size", "--json").json()["files"]
    assert info["files"] == len(listing) == 3 and info["events_known"] == 3
    assert info["events"] == sum(f["nEvents"] for f in listing) and info["bytes"] == sum(f["size"] for f in listing)
    assert [(s["se"], s["files"], s["complete"], s["note"]) for s in info["storage_elements"]] == [
        ("KEK-DATA-SE", 3, True, "local to LCG.KEK.jp"), ("DESY-DATA-SE", 3, True, "distance 10")]
    rse_status.update_rse(grid.server.state.services["rucio"], None, "KEK-DATA-SE", {"availability_read": False})
    text = grid.run("gb2_ds_query_dataset", f"{UUBAR}/sub00", SIGNAL)
    assert text.code == 0, text.err
    assert "type       : datablock" in text.out and "campaign_name : MC15ri_b" in text.out
    assert "KEK-DATA-SE: 3 of 3 files available" in text.out and "(storage element down)" in text.out
    assert text.out.count("lpn") == 2
    coll = grid.run("gb2_ds_query_dataset", COLLECTION, "--json").json()["datasets"][0]
    assert coll["type"] == "collection" and coll["datablocks"] == 0 and coll["files"] == 6
    assert grid.run("gb2_ds_query_dataset", "/belle/user/alice/none").code == 5


def test_check_quota_counts_your_files_and_warns_near_the_limit(grid, tmp_path):
    quiet = grid.run("gb2_check_quota", "--json")
    assert quiet.code == 0
    before = {q["se"]: q for q in quiet.json()["storage_elements"]}
    assert set(before) == {"KEK-TMP-DISK-SE", "DESY-TMP-SE"} and before["DESY-TMP-SE"]["used_bytes"] == 0
    assert before["DESY-TMP-SE"]["limit_bytes"] == 10**13 and quiet.json()["account"] == "alice"
    src = tmp_path / "up"
    src.mkdir()
    (src / "a.dat").write_bytes(os.urandom(60_000))
    (src / "b.dat").write_bytes(os.urandom(40_000))
    assert grid.run("gb2_ds_put", "-d", "DESY-TMP-SE", "-i", src, "quotatest", "-f").code == 0
    cat = grid.server.state.services["rucio"]
    quotas.set_local_limit(cat, None, "alice", "DESY-TMP-SE", 105_000)
    r = grid.run("gb2_check_quota")
    assert r.code == 0, r.err
    line = next(x for x in r.out.splitlines() if x.startswith("DESY-TMP-SE"))
    assert line.split()[1:5] == ["100.0", "kB", "2", "105.0"] and line.split()[-1] == "95.2"
    assert "Warning: your quota on DESY-TMP-SE is 95 % full (100.0 kB of 105.0 kB)" in r.out
    quotas.set_local_limit(cat, None, "alice", "DESY-TMP-SE", 100_000)
    full = grid.run("gb2_check_quota", "--se", "DESY-TMP-SE", "--json")
    assert full.code == 1
    (row,) = full.json()["storage_elements"]
    assert row["used_fraction"] == 1.0 and row["remaining_bytes"] == 0 and "is full" in row["warning"]
    quotas.set_local_limit(cat, None, "alice", "DESY-TMP-SE", float("inf"))
    assert grid.run("gb2_check_quota", "--se", "DESY-TMP-SE", "--json").json()["storage_elements"][0]["unlimited"]


def test_check_quota_counts_job_outputs(grid):
    submit(grid, "quotajobs", EXAMPLES / "mc_generation.py", "--repetition", "2")
    grid.wait_project("quotajobs")
    outputs = grid.run("gb2_ds_query_file", "quotajobs", "-m", "lfn,size,ses", "--json").json()["files"]
    rows = {q["se"]: q for q in grid.run("gb2_check_quota", "--json").json()["storage_elements"]}
    for se in {s for f in outputs for s in f["ses"]}:
        mine = [f for f in outputs if se in f["ses"]]
        assert rows[se]["files"] == len(mine) and rows[se]["used_bytes"] == sum(f["size"] for f in mine)


def test_my_collections(grid, tmp_path, monkeypatch):
    made = grid.run("gb2_ds_collection", "create", "mine", UUBAR, "--description", "my uubar and charged", "--json")
    assert made.code == 0, made.err
    assert made.json() == {"collection": "/belle/user/alice/collection/mine", "action": "create",
                           "changed": [UUBAR], "datasets": [UUBAR]}  # fmt: skip
    added = grid.run("gb2_ds_collection", "add", "mine", CHARGED.replace("/charged/", "/char*/"))
    assert added.code == 0 and CHARGED in added.out and "holds 2 dataset(s)" in added.out, added.out + added.err
    mine = "/belle/user/alice/collection/mine"
    found = grid.run("gb2_ds_search", "collection", "--list_all_collections", "/belle/user/alice/collection/*")
    assert found.out.split() == [mine]
    listed = grid.run("gb2_ds_search", "collection", "--list_datasets", mine, "--json").json()["datasets"]
    assert listed == sorted([UUBAR, CHARGED])
    assert "my uubar and charged" in grid.run("gb2_ds_search", "collection", "--get_metadata", mine).out
    ids = submit(grid, "fromcoll", EXAMPLES / "ntuple_analysis.py", "-i", mine, "--noscout")
    assert len(ids) == 6 and grid.wait_project("fromcoll") == {"Done": 6}
    removed = grid.run("gb2_ds_collection", "remove", "mine", UUBAR, "--json").json()
    assert removed["changed"] == [UUBAR] and removed["datasets"] == [CHARGED]
    monkeypatch.chdir(tmp_path)
    get = grid.run("gb2_ds_get", mine, "--force", "--json")
    assert get.code == 0 and len(get.json()["downloaded"]) == 3
    gone = grid.run("gb2_ds_collection", "delete", "mine", "--force")
    assert gone.code == 0 and "Its 1 dataset(s) are kept." in gone.out
    assert grid.run("gb2_ds_list", mine).code == 5 and grid.run("gb2_ds_list", CHARGED).code == 0


def test_collection_refusals(grid):
    for args, code, message in (
        (["create", "/belle/collection/MC/mine"], 4, "your collections live in your own area"),
        (["create", "/belle/user/bob/collection/x"], 4, "your collections live in your own area"),
        (["create", "bad name"], 2, "not a valid collection name"),
        (["create", "x", UUBAR + "/sub00"], 2, "is a datablock"),
        (["create", "x", "/belle/user/alice/nothing"], 5, "no such dataset"),
        (["add", "nothing", UUBAR], 5, "no such dataset"),
        (["delete", "x"], 2, "--force"),
    ):
        r = grid.run("gb2_ds_collection", *args)
        assert r.code == code and message in r.err, (args, r.err)
    assert grid.run("gb2_ds_collection", "create", "x", UUBAR).code == 0
    again = grid.run("gb2_ds_collection", "create", "x")
    assert again.code == 2 and "exists already" in again.err
    notin = grid.run("gb2_ds_collection", "remove", "x", CHARGED)
    assert notin.code == 2 and "is not in" in notin.err
    project = grid.run("gb2_ds_collection", "add", UUBAR, CHARGED)
    assert project.code == 4 and "your own area" in project.err
