"""gb2_ds_put as users run it: uploads that are verified, registered with their events,
resumable and idempotent, and refused before anything is sent when they must be."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gb2.client.rucio import RucioClient
from gb2.data.checksum import adler32_file
from gb2.data.transfer import file_chunks, send
from gb2.server.rucio import quotas
from gb2.standin.synth import write_synthetic_mdst


def rucio_of(grid) -> RucioClient:
    return RucioClient(f"{grid.server.url}/rucio", token=grid.dx.access_token)


def storage_files(grid, se: str = "KEK-TMP-DISK-SE") -> list[Path]:
    root = grid.server.settings.se_root / se / "belle" / "user"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def folder(tmp_path) -> Path:
    """Three stand-in mdst files (which record their events) and a plain file (which does not)."""
    src = tmp_path / "mine"
    src.mkdir()
    for i, events in enumerate((120, 80, 95)):
        write_synthetic_mdst(src / f"skim_{i}.root", events, seed=i, event_type="uubar")
    (src / "notes.dat").write_bytes(os.urandom(3000))
    (src / ".hidden").write_text("not uploaded")
    return src


def test_put_registers_verified_files_with_events_and_a_rerun_sends_nothing(grid, folder, tmp_path, monkeypatch):
    r = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["ok"] and out["lpn"] == "/belle/user/alice/mydata" and out["se"] == "KEK-TMP-DISK-SE"
    assert out["uploaded"] == sorted(f"/belle/user/alice/mydata/sub00/{n}" for n in
                                     ("skim_0.root", "skim_1.root", "skim_2.root", "notes.dat"))  # fmt: skip
    assert out["bytes"] == sum(p.stat().st_size for p in folder.iterdir() if not p.name.startswith("."))
    files = {f["lfn"].rsplit("/", 1)[1]: f for f in grid.run(
        "gb2_ds_query_file", "mydata", "-m", "lfn,nEvents,size,adler32,ses", "--json").json()["files"]}  # fmt: skip
    assert {n: f["nEvents"] for n, f in files.items()} == {"skim_0.root": 120, "skim_1.root": 80, "skim_2.root": 95,
                                                            "notes.dat": None}  # fmt: skip
    for name, f in files.items():
        assert f["adler32"] == adler32_file(folder / name) and f["size"] == (folder / name).stat().st_size
        assert f["ses"] == ["KEK-TMP-DISK-SE"]
    rules = list(rucio_of(grid).list_rules("user.alice", "/belle/user/alice/mydata/sub00"))
    assert [(x["rse_expression"], x["state"]) for x in rules] == [("KEK-TMP-DISK-SE", "OK")]
    again = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force", "--json").json()
    assert again["ok"] and again["uploaded"] == [] and len(again["already_present"]) == 4
    monkeypatch.chdir(tmp_path)
    assert grid.run("gb2_ds_get", "mydata", "--force").code == 0
    for name in files:
        assert (tmp_path / "mydata" / "sub00" / name).read_bytes() == (folder / name).read_bytes()
    text = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force")
    assert text.code == 0 and "4 already present, 0 failed: upload complete" in text.out


def test_a_file_with_new_content_is_refused_and_new_files_are_added(grid, folder):
    assert grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force").code == 0
    (folder / "notes.dat").write_bytes(os.urandom(3000))  # same name and size, other content
    (folder / "extra.dat").write_bytes(b"x" * 10)
    r = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force", "--json")
    assert r.code == 1
    out = r.json()
    assert out["uploaded"] == ["/belle/user/alice/mydata/sub00/extra.dat"]
    (failure,) = out["failed"]
    assert failure["lfn"].endswith("/notes.dat") and "already registered with other content" in failure["reason"]


def test_an_interrupted_upload_is_completed(grid, folder):
    """A run that sent a file but died before registering it: the next run replaces the copy."""
    rucio = rucio_of(grid)
    lfn = "/belle/user/alice/resumed/sub00/skim_0.root"
    (pfn,) = rucio.lfns2pfns("KEK-TMP-DISK-SE", [f"user.alice:{lfn}"], operation="write").values()
    stale = folder.parent / "stale"
    stale.write_bytes(b"half a file")
    send(file_chunks(stale), stale.stat().st_size, pfn, headers={"Authorization": f"Bearer {grid.dx.access_token()}"})
    r = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "resumed", "--force", "--json")
    assert r.code == 0 and lfn in r.json()["uploaded"], r.out + r.err
    on_disk = grid.server.settings.se_root / "KEK-TMP-DISK-SE" / lfn.lstrip("/")
    assert on_disk.read_bytes() == (folder / "skim_0.root").read_bytes()


def test_datablocks(grid, folder, tmp_path, monkeypatch):
    assert grid.run("gb2_ds_put", "-d", "DESY-TMP-SE", "-i", folder, "blocks", "--datablock", "sub03", "-f").code == 0
    assert grid.run("gb2_ds_list", "blocks").out.split() == ["/belle/user/alice/blocks/sub03"]
    monkeypatch.chdir(tmp_path)
    assert grid.run("gb2_ds_get", "blocks", "--force").code == 0  # ./blocks/sub03/...
    copy = grid.run("gb2_ds_put", "-d", "DESY-TMP-SE", "-i", tmp_path / "blocks", "again", "-f", "--json")
    assert copy.code == 0 and all("/again/sub03/" in lfn for lfn in copy.json()["uploaded"]), copy.out + copy.err
    assert len(copy.json()["uploaded"]) == 4  # the manifest beside the download is not uploaded


@pytest.mark.parametrize(("args", "code", "message"), [
    (["/belle/MC/release-06-00-08/mine"], 4, "only in your own area"),
    (["/belle/user/bob/stolen"], 4, "only in your own area"),
    (["/belle/user/alice"], 2, "not the area itself"),
    (["/belle/user/alice/x*"], 2, "cannot be a wildcard"),
    (["mydata", "-d", "KEK-DATA-SE"], 2, "only to TMP ones"),
    (["mydata", "-d", "NOWHERE-SE"], 2, "unknown storage element"),
    (["mydata", "--datablock", "block7"], 2, "named sub00"),
])
def test_refused_before_anything_is_sent(grid, folder, args, code, message):
    base = ["-d", "KEK-TMP-DISK-SE"] if "-d" not in args else []
    r = grid.run("gb2_ds_put", "-i", folder, *base, *args, "--force")
    assert r.code == code and message in r.err, r.err
    assert r.err.count("\n") == 1
    assert storage_files(grid) == [] and storage_files(grid, "DESY-TMP-SE") == []
    assert grid.run("gb2_ds_list", "/belle/user/alice/mydata").code == 5


def test_bad_names_and_quota_and_site_are_checked_first(grid, folder, monkeypatch):
    (folder / "my file.root").write_bytes(b"spaces are not allowed")
    bad = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force")
    assert bad.code == 2 and "'my file.root'" in bad.err and "rename" in bad.err
    (folder / "my file.root").unlink()
    quotas.set_local_limit(grid.server.state.services["rucio"], None, "alice", "KEK-TMP-DISK-SE", 1000)
    full = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", folder, "mydata", "--force")
    assert full.code == 2 and "would not fit in your quota on KEK-TMP-DISK-SE" in full.err
    monkeypatch.setenv("GB2_SITE", "")
    nosite = grid.run("gb2_ds_put", "-i", folder, "mydata", "--force")
    assert nosite.code == 2 and "choose one with -d" in nosite.err
    assert storage_files(grid) == [] and grid.run("gb2_ds_list", "/belle/user/alice/mydata").code == 5
    monkeypatch.setenv("GB2_SITE", "LCG.DESY.de")  # the TMP storage element at your site by default
    r = grid.run("gb2_ds_put", "-i", folder, "mydata", "--force", "--json")
    assert r.code == 0 and r.json()["se"] == "DESY-TMP-SE"
    ask = grid.run("gb2_ds_put", "-i", folder, "other")
    assert ask.code == 2 and "pass --force to upload" in ask.err


def test_a_thousand_files_fill_a_datablock_and_a_rerun_keeps_their_place(grid, tmp_path):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(1000):
        (src / f"f{i:04d}.dat").write_bytes(i.to_bytes(2, "little"))
    first = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", src, "many", "-f", "--json", "--parallel", "8")
    assert first.code == 0 and len(first.json()["uploaded"]) == 1000
    (src / "a_new.dat").write_bytes(b"sorts first")  # would push f0999 into sub01 by name order
    again = grid.run("gb2_ds_put", "-d", "KEK-TMP-DISK-SE", "-i", src, "many", "-f", "--json")
    assert again.code == 0 and again.json()["uploaded"] == ["/belle/user/alice/many/sub01/a_new.dat"]
    assert len(again.json()["already_present"]) == 1000
    assert grid.run("gb2_ds_list", "many").out.split() == ["/belle/user/alice/many/sub00", "/belle/user/alice/many/sub01"]
