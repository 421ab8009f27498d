"""gb2_ds_cp as users run it: a new dataset with new replicas, verified like an upload."""

from __future__ import annotations

from gb2.client.rucio import RucioClient
from gb2.server.rucio import rse_status
from tests.cli import SIGNAL, UUBAR


def rucio_of(grid) -> RucioClient:
    return RucioClient(f"{grid.server.url}/rucio", token=grid.dx.access_token)


def test_copy_an_official_dataset_into_my_area(grid, tmp_path, monkeypatch):
    r = grid.run("gb2_ds_cp", UUBAR, "uubarcopy", "-d", "DESY-TMP-SE", "--force", "--json")
    assert r.code == 0, r.err
    out = r.json()
    source = {f.name.rsplit("/", 1)[1]: f for f in rucio_of(grid).resolve(UUBAR)}
    assert sorted(out["uploaded"]) == sorted(f"/belle/user/alice/uubarcopy/sub00/{n}" for n in source)
    copy = {f.name.rsplit("/", 1)[1]: f for f in rucio_of(grid).resolve("/belle/user/alice/uubarcopy")}
    for name, f in copy.items():
        assert (f.bytes, f.adler32, f.events) == (source[name].bytes, source[name].adler32, source[name].events)
        assert f.rses == ["DESY-TMP-SE"]  # new replicas only, never the original's
    rucio = rucio_of(grid)
    meta = rucio.get_metadata("user.alice", "/belle/user/alice/uubarcopy", plugin="JSON")
    assert meta["mc_event_type"] == "uubar" and meta["campaign_name"] == "MC15ri_b"
    again = grid.run("gb2_ds_cp", UUBAR, "uubarcopy", "-d", "DESY-TMP-SE", "--force", "--json").json()
    assert again["ok"] and again["uploaded"] == [] and len(again["already_present"]) == 3
    monkeypatch.chdir(tmp_path)
    assert grid.run("gb2_ds_get", "uubarcopy", "--force").code == 0
    assert grid.run("gb2_ds_verify", "uubarcopy").code == 0


def test_copy_a_datablock_reads_the_healthy_replica(grid):
    rse_status.update_rse(grid.server.state.services["rucio"], None, "KEK-DATA-SE", {"availability_read": False})
    r = grid.run("gb2_ds_cp", f"{UUBAR}/sub00", "/belle/user/alice/part/sub04", "-d", "KEK-TMP-DISK-SE", "-f")
    assert r.code == 0, r.out + r.err
    assert "3 copied" in r.out and "copy complete" in r.out
    assert grid.run("gb2_ds_list", "part").out.split() == ["/belle/user/alice/part/sub04"]
    only_kek = grid.run("gb2_ds_cp", SIGNAL, "sig", "-d", "KEK-TMP-DISK-SE", "-f", "--json")
    assert only_kek.code == 1 and {f["reason"] for f in only_kek.json()["failed"]} == {"no readable source"}


def test_copy_refusals(grid):
    for args, code, message in (
        ([UUBAR, "/belle/MC/mine", "-d", "KEK-TMP-DISK-SE"], 4, "only in your own area"),
        ([UUBAR, "/belle/user/bob/x", "-d", "KEK-TMP-DISK-SE"], 4, "only in your own area"),
        (["/belle/user/alice/nothing", "x", "-d", "KEK-TMP-DISK-SE"], 5, "no such dataset"),
        ([UUBAR + "/sub00/" + "x.root", "x", "-d", "KEK-TMP-DISK-SE"], 5, "no such dataset"),
        ([UUBAR, "x", "-d", "DESY-DATA-SE"], 2, "only to TMP ones"),
        (["/belle/collection/MC/MC15ri_generic_4S_v1", "x", "-d", "KEK-TMP-DISK-SE"], 2, "one at a time"),
    ):
        r = grid.run("gb2_ds_cp", *args, "--force")
        assert r.code == code and message in r.err, (args, r.err)
    assert grid.run("gb2_ds_list", "/belle/user/alice/x").code == 5
