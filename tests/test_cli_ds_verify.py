"""The manifest gb2_ds_get writes and gb2_ds_verify checks, as users run them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gb2.client.rucio import RucioClient
from gb2.data.checksum import adler32_file
from gb2.data.register import register_outputs

PROJECT = "/belle/user/alice/mf"


def rucio_of(grid) -> RucioClient:
    return RucioClient(f"{grid.server.url}/rucio", token=grid.dx.access_token)


def register(grid, tmp_path: Path, names: list[tuple[str, int]], *, size: int = 5000, se: str = "KEK-TMP-DISK-SE") -> dict:
    """Outputs named as a job writes them (``ntuple_<index>_job<id>_<gen>.root``), with random content."""
    rucio = rucio_of(grid)
    if not rucio.did_exists(*rucio.did(PROJECT)):
        rucio.create_project(PROJECT)
    files, content = [], {}
    for name, _job in names:
        path = tmp_path / "src" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(os.urandom(size))
        content[name] = path.read_bytes()
        files.append((path, f"{PROJECT}/sub00/{name}", 10))
    register_outputs(rucio, se, files, job_id=names[0][1], token=grid.dx.access_token())
    return content


NAMES = [("ntuple_00000_job11_00.root", 11), ("ntuple_00001_job12_00.root", 12), ("ntuple_00002_job13_00.root", 13)]


@pytest.fixture
def downloaded(grid, tmp_path, monkeypatch):
    content = register(grid, tmp_path, NAMES)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    r = grid.run("gb2_ds_get", "mf", "--force")
    assert r.code == 0, r.err
    return work, content


def test_manifest_records_every_verified_file(grid, downloaded):
    work, content = downloaded
    manifest = json.loads((work / "mf" / "gb2_manifest.json").read_text())
    assert manifest["format"] == "gb2-download-manifest" and manifest["missing"] == {}
    assert sorted(manifest["files"]) == [f"sub00/{n}" for n, _ in NAMES]
    entry = manifest["files"]["sub00/ntuple_00001_job12_00.root"]
    assert entry["lfn"] == f"{PROJECT}/sub00/ntuple_00001_job12_00.root"
    assert entry["bytes"] == 5000 and entry["adler32"] == adler32_file(work / "mf" / "sub00" / NAMES[1][0])
    assert (entry["job_id"], entry["reschedule"], entry["se"]) == (12, 0, "KEK-TMP-DISK-SE")
    assert entry["time"].endswith("Z") and entry["time"][:2] == "20"
    r = grid.run("gb2_ds_verify", "mf")
    assert r.code == 0 and "3 files verified" in r.out and "complete" in r.out, r.out + r.err
    whole = grid.run("gb2_ds_verify", ".", "--json").json()  # a folder of dataset folders works too
    assert whole["ok"] and whole["manifests"] == ["mf/gb2_manifest.json"] and len(whole["verified"]) == 3


def test_verify_finds_corrupt_missing_and_extra_files_and_get_repairs_them(grid, downloaded):
    work, content = downloaded
    block = work / "mf" / "sub00"
    corrupt = block / NAMES[0][0]
    data = bytearray(corrupt.read_bytes())
    data[100] ^= 0xFF
    corrupt.write_bytes(bytes(data))  # same size, different content
    (block / NAMES[1][0]).unlink()
    (block / "notes.txt").write_text("mine")
    r = grid.run("gb2_ds_verify", "mf", "--json")
    assert r.code == 1
    report = r.json()
    assert [p["path"] for p in report["corrupt"]] == [f"sub00/{NAMES[0][0]}"] and "adler32" in report["corrupt"][0]["reason"]
    assert [p["path"] for p in report["missing"]] == [f"sub00/{NAMES[1][0]}"]
    assert report["extra"] == ["sub00/notes.txt"] and report["verified"] == [f"sub00/{NAMES[2][0]}"]
    text = grid.run("gb2_ds_verify", "mf")
    assert text.code == 1 and "INCOMPLETE: 1 missing, 1 corrupt" in text.out
    again = grid.run("gb2_ds_get", "mf", "--force", "--json").json()
    assert sorted(again["downloaded"]) == sorted(f"{PROJECT}/sub00/{n}" for n, _ in NAMES[:2])
    assert corrupt.read_bytes() == content[NAMES[0][0]]
    fixed = grid.run("gb2_ds_verify", "mf", "--json")
    assert fixed.code == 0 and fixed.json()["extra"] == ["sub00/notes.txt"]


def test_rerun_trusts_the_manifest_without_hashing_or_replica_lookups(grid, downloaded, monkeypatch):
    work, _ = downloaded
    import gb2.data.download as download

    calls: list[str] = []  # test doubles (spies): count what a rerun would do, then do it
    real_verify, real_list = download.verify, RucioClient.list_replicas

    def spy_verify(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("hash")
        return real_verify(*args, **kwargs)

    def spy_list(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("replicas")
        return real_list(self, *args, **kwargs)

    monkeypatch.setattr(download, "verify", spy_verify)
    monkeypatch.setattr(RucioClient, "list_replicas", spy_list)
    r = grid.run("gb2_ds_get", "mf", "--force", "--json")
    assert r.code == 0 and len(r.json()["already_present"]) == 3 and r.json()["downloaded"] == []
    assert "hash" not in calls and "replicas" not in calls, calls
    # A file touched since it was verified is hashed again (and, still good, kept).
    os.utime(work / "mf" / "sub00" / NAMES[0][0], ns=(1, 1))
    calls.clear()
    r = grid.run("gb2_ds_get", "mf", "--force", "--json")
    assert r.code == 0 and calls.count("hash") == 1 and r.json()["downloaded"] == []
    # Without the manifest every file is hashed and the replicas are listed.
    (work / "mf" / "gb2_manifest.json").unlink()
    calls.clear()
    assert grid.run("gb2_ds_get", "mf", "--force").code == 0
    assert calls.count("hash") == 3 and "replicas" in calls


def test_superseded_generations_are_recorded_and_pruned(grid, downloaded, tmp_path):
    work, _ = downloaded
    newer = "ntuple_00001_job14_01.root"
    register(grid, tmp_path, [(newer, 14)])
    r = grid.run("gb2_ds_get", "mf", "--force", "--json").json()
    assert r["downloaded"] == [f"{PROJECT}/sub00/{newer}"] and r["superseded"] == [f"{PROJECT}/sub00/{NAMES[1][0]}"]
    manifest = json.loads((work / "mf" / "gb2_manifest.json").read_text())
    assert f"sub00/{NAMES[1][0]}" in manifest["superseded"] and f"sub00/{newer}" in manifest["files"]
    report = grid.run("gb2_ds_verify", "mf")
    assert report.code == 0 and "Superseded by a newer reschedule generation (1)" in report.out
    assert "--prune_superseded" in report.out
    pruned = grid.run("gb2_ds_verify", "mf", "--prune_superseded", "--json")
    assert pruned.code == 0 and pruned.json()["pruned"] == [f"sub00/{NAMES[1][0]}"]
    assert not (work / "mf" / "sub00" / NAMES[1][0]).exists()
    after = grid.run("gb2_ds_verify", "mf", "--json").json()
    assert after["ok"] and after["superseded"] == [] and len(after["verified"]) == 3


def test_failed_files_are_recorded_as_missing(grid, tmp_path, monkeypatch):
    register(grid, tmp_path, NAMES[:2])
    monkeypatch.chdir(tmp_path)
    r = grid.run("gb2_ds_get", "mf", "--force", "--se", "DESY-TMP-SE")
    assert r.code == 1
    report = grid.run("gb2_ds_verify", "mf", "--json")
    assert report.code == 1
    assert {p["reason"] for p in report.json()["missing"]} == {"no replica at DESY-TMP-SE"}
    assert grid.run("gb2_ds_get", "mf", "--force").code == 0
    assert grid.run("gb2_ds_verify", "mf").code == 0


def test_verify_bad_input(grid, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    none = grid.run("gb2_ds_verify", "empty")
    assert none.code == 5 and "no gb2_manifest.json" in none.err
    gone = grid.run("gb2_ds_verify", "nowhere")
    assert gone.code == 2 and "does not exist" in gone.err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "gb2_manifest.json").write_text('{"format": "gb2-download-manifest", "files": {'
                                                           '"../../etc/passwd": {"lfn": "/x", "bytes": 1}}}')
    escape = grid.run("gb2_ds_verify", "broken", "--json")
    assert escape.code == 1 and "refused" in escape.json()["corrupt"][0]["reason"]


def test_glob_matching_nothing_is_no_file_found(grid, tmp_path, monkeypatch):
    """b2luigi's expectation: exit 0 and "No file found" on stdout, an empty --failed_lfns file."""
    monkeypatch.chdir(tmp_path)
    r = grid.run("gb2_ds_get", "--new", "--force", "/belle/user/alice/nothing*/sub*/*.root", "--failed_lfns", "f.txt")
    assert r.code == 0 and "No file found" in r.out, r.out + r.err
    assert (tmp_path / "f.txt").read_text() == ""


def test_a_dataset_folder_linked_elsewhere_is_refused(grid, tmp_path, monkeypatch):
    """A symlink planted where the dataset folder goes cannot lead the download outside."""
    register(grid, tmp_path, NAMES[:1])
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (work / "mf").symlink_to(outside)
    monkeypatch.chdir(work)
    r = grid.run("gb2_ds_get", "mf", "--force", "--json")
    assert r.code == 1 and r.json()["failed"][0]["reason"].startswith("refused:")
    assert list(outside.iterdir()) == []
