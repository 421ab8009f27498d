"""The closest healthy replica first: gb2_ds_list -lg, gb2_ds_get and the engine's inputs."""

from __future__ import annotations

import json

from gb2.data.replica_order import guess_site
from gb2.server.rucio import rse_status
from tests.cli import EXAMPLES, SIGNAL, UUBAR, submit


def flag_down(grid, rse: str, down: bool = True) -> None:
    """What a grid operator does (root's PUT /rses/<rse>); the embedded root has no login."""
    rse_status.update_rse(grid.server.state.services["rucio"], None, rse, {"availability_read": not down})


def se_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.startswith("    ")]


def test_list_shows_replicas_closest_first_with_their_state(grid, monkeypatch):
    first_file = f"{UUBAR}/sub00"
    assert grid.run("gb2_config", "site", "LCG.DESY.de", "--profile", "test").code == 0
    lines = se_lines(grid.run("gb2_ds_list", "-lg", first_file).out)
    assert lines[:2] == ["DESY-DATA-SE: replica AVAILABLE (local to LCG.DESY.de)",
                         "KEK-DATA-SE: replica AVAILABLE (distance 10)"]  # fmt: skip
    monkeypatch.setenv("GB2_SITE", "LCG.KEK.jp")  # one command elsewhere
    assert se_lines(grid.run("gb2_ds_list", "-lg", first_file).out)[0] == "KEK-DATA-SE: replica AVAILABLE (local to LCG.KEK.jp)"
    flag_down(grid, "KEK-DATA-SE")
    lines = se_lines(grid.run("gb2_ds_list", "-lg", first_file).out)
    assert lines[:2] == ["DESY-DATA-SE: replica AVAILABLE (distance 10)",
                         "KEK-DATA-SE: replica AVAILABLE (storage element down)"]  # fmt: skip
    entries = grid.run("gb2_ds_list", "-lg", UUBAR, "--json").json()["entries"]
    assert entries[0]["replicas"] == [
        {"se": "DESY-DATA-SE", "state": "3 of 3 files available", "se_down": False, "note": "distance 10"},
        {"se": "KEK-DATA-SE", "state": "3 of 3 files available", "se_down": True, "note": "storage element down"}]


def test_download_reads_the_local_replica_and_skips_storage_down(grid, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GB2_SITE", "LCG.KEK.jp")
    assert grid.run("gb2_ds_get", UUBAR, "--force").code == 0
    manifest = json.loads((tmp_path / "mdst" / "gb2_manifest.json").read_text())
    assert {e["se"] for e in manifest["files"].values()} == {"KEK-DATA-SE"}
    flag_down(grid, "KEK-DATA-SE")
    (tmp_path / "mdst").rename(tmp_path / "first")
    r = grid.run("gb2_ds_get", UUBAR, "--force")
    assert r.code == 0, r.out + r.err
    manifest = json.loads((tmp_path / "mdst" / "gb2_manifest.json").read_text())
    assert {e["se"] for e in manifest["files"].values()} == {"DESY-DATA-SE"}
    only_kek = grid.run("gb2_ds_get", SIGNAL, "--force", "--json")
    assert only_kek.code == 1 and {f["reason"] for f in only_kek.json()["failed"]} == {"no available replica"}


def test_jobs_do_not_read_from_storage_down(grid):
    flag_down(grid, "KEK-DATA-SE")
    ok = submit(grid, "downok", EXAMPLES / "ntuple_analysis.py", "-i", UUBAR)
    assert grid.wait_project("downok") == {"Done": len(ok)}
    sites = {j["Site"] for j in grid.dx.iter_search(["Site"], [{"parameter": "JobGroup", "operator": "eq", "value": "downok"}])}
    assert sites == {"LCG.DESY.de"}  # the only site with a readable local replica
    bad = submit(grid, "downbad", EXAMPLES / "ntuple_analysis.py", "-i", SIGNAL)  # only on KEK-DATA-SE
    assert grid.wait_project("downbad") == {"Failed": len(bad)}
    minor = {j["MinorStatus"] for j in grid.dx.iter_search(
        ["MinorStatus"], [{"parameter": "JobGroup", "operator": "eq", "value": "downbad"}])}  # fmt: skip
    assert minor == {"Input Data Not Available"}


def test_site_is_guessed_from_the_domain_and_can_be_set(grid, monkeypatch):
    assert guess_site("login.cc.kek.jp") == "LCG.KEK.jp" and guess_site("naf-belle11.desy.de") == "LCG.DESY.de"
    assert guess_site("laptop.example.org") is None and guess_site("notkek.jp") is None
    monkeypatch.delenv("GB2_SITE", raising=False)
    assert grid.run("gb2_config", "site", "LCG.KEK.jp", "--profile", "test").code == 0
    assert grid.run("gb2_config", "site", "--profile", "test").out.strip() == "test: LCG.KEK.jp (set)"
    bad = grid.run("gb2_config", "site", "KEK jp", "--profile", "test")
    assert bad.code == 2 and "invalid site" in bad.err
    assert grid.run("gb2_config", "site", "--unset", "--profile", "test").code == 0
    assert "(set)" not in grid.run("gb2_config", "site", "--profile", "test").out
