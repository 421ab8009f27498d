"""gb2_ds_list and gb2_ds_get as users run them, against real files with real checksums."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from gb2.client.rucio import RucioClient
from gb2.data.checksum import adler32_file
from gb2.data.register import register_outputs
from tests.cli import COLLECTION, EXAMPLES, RELEASE, UUBAR

NTUPLE = str(EXAMPLES / "ntuple_analysis.py")


@pytest.fixture
def project(grid) -> str:
    r = grid.run("gbasf2", NTUPLE, "-p", "dl", "-s", RELEASE, "-i", UUBAR, "--force")
    assert r.code == 0, r.err
    assert grid.wait_project("dl") == {"Done": 3}
    return "dl"


def rucio_of(grid) -> RucioClient:
    return RucioClient(f"{grid.server.url}/rucio", token=grid.dx.access_token)


def test_ds_list_forms(grid, project):
    r = grid.run("gb2_ds_list", project)
    assert r.out.split() == ["/belle/user/alice/dl/sub00"]
    files = grid.run("gb2_ds_list", "/belle/user/alice/dl/sub00").out.split()
    assert len(files) == 3 and all("/sub00/ntuple_0000" in f for f in files)
    glob = grid.run("gb2_ds_list", "/belle/user/alice/dl/sub*/ntuple_0000[01]_*.root").out.split()
    assert len(glob) == 2
    sizes = grid.run("gb2_ds_list", "-l", UUBAR).out
    assert "/sub00  (3 files," in sizes
    where = grid.run("gb2_ds_list", "-lg", UUBAR).out
    assert "KEK-DATA-SE: replica" in where and "DESY-DATA-SE: replica" in where
    coll = grid.run("gb2_ds_list", COLLECTION, "--json").json()["entries"]
    assert {e["type"] for e in coll} == {"CONTAINER"} and len(coll) == 2
    entries = grid.run("gb2_ds_list", "-lg", "/belle/user/alice/dl/sub00", "--json").json()["entries"]
    assert set(entries[0]) == {"lfn", "type", "bytes", "files", "events", "ses", "replicas"}
    assert all(e["ses"] and e["bytes"] for e in entries)


def test_ds_list_bad_input(grid):
    for arg, code, message in (("/belle/user/alice/none", 5, "no such dataset"), ("proj*", 2, "absolute path"),
                               ("/elsewhere/x", 2, "start with /belle/")):  # fmt: skip
        r = grid.run("gb2_ds_list", arg)
        assert r.code == code and message in r.err, (arg, r.err)
    # a glob that matches nothing is not an error (the rule of the README's exit codes)
    none = grid.run("gb2_ds_list", "/belle/MC/zz*")
    assert (none.code, none.out, none.err) == (0, "No dataset or file matches /belle/MC/zz*\n", "")


def test_download_verifies_and_second_run_skips(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = grid.run("gb2_ds_get", project, "--force", "--failed_lfns", "failed.txt")
    assert r.code == 0, r.err
    local = sorted((tmp_path / "dl" / "sub00").iterdir())
    assert len(local) == 3 and all(p.name.startswith("ntuple_") for p in local)
    catalogue = {f.name.rsplit("/", 1)[1]: f for f in rucio_of(grid).resolve("/belle/user/alice/dl")}
    for path in local:
        assert adler32_file(path) == catalogue[path.name].adler32
        assert path.stat().st_size == catalogue[path.name].bytes
    assert (tmp_path / "failed.txt").read_text() == ""
    assert "download complete: every file is present and verified" in r.out
    again = grid.run("gb2_ds_get", project, "--force", "--json").json()
    assert again["ok"] and again["downloaded"] == [] and len(again["already_present"]) == 3


def test_corrupted_local_file_is_fetched_again(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert grid.run("gb2_ds_get", project, "--force").code == 0
    victim = sorted((tmp_path / "dl" / "sub00").iterdir())[0]
    good = victim.read_bytes()
    victim.write_bytes(good[:-10] + b"x" * 10)
    r = grid.run("gb2_ds_get", project, "--force", "--json").json()
    assert r["ok"] and len(r["downloaded"]) == 1 and r["downloaded"][0].endswith(victim.name)
    assert victim.read_bytes() == good


def dropping_readinto(real, dropped: list[bool]):  # type: ignore[no-untyped-def]
    """A test double at the socket-read level: the first body read past half a file
    fails as a reset connection would, after the bytes before it were delivered."""

    def readinto(response, buffer):  # type: ignore[no-untyped-def]
        if not dropped and response.length is not None and response.length < 20000:
            dropped.append(True)
            raise ConnectionResetError("connection reset by peer (test double)")
        return real(response, buffer)

    return readinto


def test_interrupted_download_is_completed_by_a_second_run(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from gb2.data.transfer import partial_name

    files = rucio_of(grid).resolve("/belle/user/alice/dl")
    first = sorted(files, key=lambda f: f.name)[0]
    # A partial file left by a run that was killed half-way: the next run resumes it.
    target = tmp_path / "dl" / "sub00" / first.name.rsplit("/", 1)[1]
    target.parent.mkdir(parents=True)
    url = first.pfns[next(iter(first.pfns))][0]
    whole = httpx.get(url, headers={"Authorization": f"Bearer {grid.dx.access_token()}"}).content
    partial_name(target).write_bytes(whole[: len(whole) // 2])
    r = grid.run("gb2_ds_get", project, "--force", "--json").json()
    assert r["ok"] and len(r["downloaded"]) == 3
    assert target.read_bytes() == whole
    assert not partial_name(target).exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_dropped_connection_is_retried_and_resumed(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import http.client

    dropped: list[bool] = []
    monkeypatch.setattr(http.client.HTTPResponse, "readinto", dropping_readinto(http.client.HTTPResponse.readinto, dropped))
    r = grid.run("gb2_ds_get", project, "--force", "--json").json()
    assert dropped
    assert r["ok"] and len(r["downloaded"]) == 3  # the dropped file was retried with a Range request
    catalogue = {f.name.rsplit("/", 1)[1]: f.adler32 for f in rucio_of(grid).resolve("/belle/user/alice/dl")}
    for path in (tmp_path / "dl" / "sub00").iterdir():
        assert adler32_file(path) == catalogue[path.name]


def test_only_newest_generation_is_downloaded(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rucio = rucio_of(grid)
    old = sorted(f.name for f in rucio.resolve("/belle/user/alice/dl"))[0]
    newer = old.replace("_00.root", "_01.root")
    source = tmp_path / "newer.root"
    source.write_bytes(os.urandom(2048))
    register_outputs(rucio, "KEK-TMP-DISK-SE", [(source, newer, None)], token=grid.dx.access_token())
    listing = grid.run("gb2_ds_list", "/belle/user/alice/dl/sub00").out.split()
    assert old in listing and newer in listing  # gb2_ds_list shows every generation
    r = grid.run("gb2_ds_get", project, "--force")
    assert r.code == 0, r.err
    assert "Files with duplicated jobID, not downloaded:" in r.out and old in r.out
    names = sorted(p.name for p in (tmp_path / "dl" / "sub00").iterdir())
    assert newer.rsplit("/", 1)[1] in names and old.rsplit("/", 1)[1] not in names
    assert (tmp_path / "dl" / "sub00" / newer.rsplit("/", 1)[1]).read_bytes() == source.read_bytes()


def test_restricting_options(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = sorted(f.name for f in rucio_of(grid).resolve("/belle/user/alice/dl"))
    wanted = tmp_path / "wanted.txt"
    wanted.write_text(files[1] + "\n")
    r = grid.run("gb2_ds_get", project, "--force", "--input_dslist", wanted, "--json").json()
    assert r["downloaded"] == [files[1]]
    block = grid.run("gb2_ds_get", UUBAR + "/sub00", "--force", "--se", "DESY-DATA-SE", "--json").json()
    assert block["ok"] and len(block["downloaded"]) == 3
    assert len(list((tmp_path / "mdst" / "sub00").iterdir())) == 3
    nowhere = grid.run("gb2_ds_get", project, "--force", "--se", "DESY-DATA-SE", "--failed_lfns", "f.txt", "--json")
    assert nowhere.code == 1
    # The file fetched before is present and verified: only the others fail.
    assert set((tmp_path / "f.txt").read_text().split()) == set(files) - {files[1]}
    assert {f["reason"] for f in nowhere.json()["failed"]} == {"no replica at DESY-DATA-SE"}
    assert nowhere.json()["already_present"] == [files[1]]


def test_ds_get_bad_input_and_prompt(grid, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = grid.run("gb2_ds_get", "no_such_project", "--force")
    assert missing.code == 5 and "no such dataset" in missing.err
    ask = grid.run("gb2_ds_get", project)
    assert ask.code == 2 and "pass --force to download" in ask.err
    assert not (tmp_path / "dl").exists()
    bad_list = grid.run("gb2_ds_get", project, "--input_dslist", tmp_path / "nope.txt", "--force")
    assert bad_list.code == 2
    assert list(Path(tmp_path).iterdir()) == []
