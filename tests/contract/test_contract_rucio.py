"""The Rucio contract: gb2's Rucio client and transfer code against the embedded server and Rucio 41.5.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gb2.data.checksum import adler32_file
from gb2.data.register import register_outputs
from gb2.data.transfer import fetch, local_path
from gb2.errors import Forbidden, Gb2Error, NotFound
from tests.contract.targets import run_id

META = {"data_type": "mc", "data_level": "mdst", "campaign_name": "MC15ri_b", "beam_energy": "4S",
        "mc_event_type": "uubar", "bkg_level": "BGx1", "release": "release-06-00-08"}  # fmt: skip


@pytest.fixture(scope="module")
def alice(rucio):
    return rucio.client("alice")


@pytest.fixture(scope="module")
def bob(rucio):
    return rucio.client("bob")


@pytest.fixture(scope="module")
def project(rucio, alice, tmp_path_factory):
    """A user project: container, datablock, three registered files with real checksums."""
    lpn = f"/belle/user/alice/ct{run_id()}"
    blocks = alice.create_project(lpn)
    assert [b.name for b in blocks] == [f"{lpn}/sub00"]
    source = tmp_path_factory.mktemp("files")
    files = []
    for i in range(3):
        path = source / f"out_{i:05d}.root"
        path.write_bytes(os.urandom(5000 + 1000 * i))
        files.append((path, f"{lpn}/sub00/out_{i:05d}_job{100 + i}_00.root", 100 + i))
    register_outputs(alice, rucio.user_rse, files, job_id=4242)
    return lpn, {lfn: path for path, lfn, _ in files}


def test_identity(rucio, alice):
    assert alice.current_account() == "alice"
    assert alice.ping()


def test_containers_and_datasets_with_belle_metadata(alice):
    lpn = f"/belle/user/alice/meta{run_id()}"
    did = alice.did(lpn)
    assert did.scope == "user.alice"
    assert alice.add_container(did.scope, lpn, meta={**META, "experiment": 1003, "run": 0})
    assert not alice.add_container(did.scope, lpn, exist_ok=True)  # a retried create is harmless
    got = alice.get_did(did.scope, lpn)
    assert (got["type"], got["name"], got["scope"]) == ("CONTAINER", lpn, "user.alice")
    meta = alice.get_metadata(did.scope, lpn, plugin="JSON")
    assert {k: meta[k] for k in META} == META and meta["experiment"] == 1003
    alice.set_metadata_bulk(did.scope, lpn, {"skim_decay": "14120601"})
    assert alice.get_metadata(did.scope, lpn, plugin="JSON")["skim_decay"] == "14120601"


def test_search_by_metadata(alice):
    tag = run_id()
    names = {}
    for exp in (7, 18, 26):
        lpn = f"/belle/user/alice/s{tag}e{exp:04d}"
        alice.add_container("user.alice", lpn, meta={**META, "experiment": exp, "campaign_name": f"C{tag}"})
        names[exp] = lpn
    found = set(alice.search_dids("user.alice", {"campaign_name": f"C{tag}", "experiment.gte": 18}, did_type="container"))
    assert found == {names[18], names[26]}
    either = set(alice.search_dids("user.alice", [{"campaign_name": f"C{tag}", "experiment": 7},
                                                  {"campaign_name": f"C{tag}", "experiment": 26}]))  # fmt: skip
    assert either == {names[7], names[26]}
    wildcard = set(alice.search_dids("user.alice", {"campaign_name": f"C{tag[:4]}*", "experiment.lt": 10}))
    assert wildcard == {names[7]}
    with pytest.raises(Gb2Error):  # Rucio refuses to mix DID-column and JSON keys in one search
        list(alice.search_dids("user.alice", {"campaign": "x", "experiment": 7}))


def test_registered_files_listing(rucio, alice, project):
    lpn, files = project
    content = list(alice.list_content("user.alice", lpn))
    assert [(c["name"], c["type"]) for c in content] == [(f"{lpn}/sub00", "DATASET")]
    listed = {f["name"]: f for f in alice.list_files("user.alice", f"{lpn}/sub00")}
    assert set(listed) == set(files)
    for lfn, path in files.items():
        assert listed[lfn]["bytes"] == path.stat().st_size
        assert listed[lfn]["adler32"] == adler32_file(path)
    assert int(listed[next(iter(files))]["events"]) in (100, 101, 102)
    depth = alice.get_did("user.alice", lpn, dynamic=True)
    assert int(depth["length"]) == 3 and int(depth["bytes"]) == sum(p.stat().st_size for p in files.values())
    parents = [p["name"] for p in alice.list_parents("user.alice", next(iter(files)))]
    assert parents == [f"{lpn}/sub00"]
    assert alice.get_metadata("user.alice", next(iter(files)), plugin="JSON")["job_id"] == 4242


def test_replicas_and_a_verified_download(rucio, alice, project, tmp_path):
    lpn, files = project
    resolved = {f.name: f for f in alice.resolve(lpn)}
    assert set(resolved) == set(files)
    for lfn, item in resolved.items():
        assert rucio.user_rse in item.pfns
        pfn = item.pfns[rucio.user_rse][0]
        assert pfn.startswith(rucio.file_scheme)
        headers = {"Authorization": f"Bearer {alice.token()}"} if pfn.startswith("http") else None
        got = fetch(pfn, tmp_path / Path(lfn).name, size=item.bytes, adler32=item.adler32, headers=headers)
        assert got.adler32 == adler32_file(files[lfn]) and got.path.read_bytes() == files[lfn].read_bytes()
        if rucio.real:
            assert local_path(pfn) is not None  # a POSIX storage element: read in place


def test_another_user_is_refused_in_alices_scope(rucio, bob, project, tmp_path):
    lpn, files = project
    with pytest.raises(Forbidden):
        bob.add_dataset("user.alice", f"{lpn}/sub01")
    with pytest.raises(Forbidden):
        bob.attach("user.alice", f"{lpn}/sub00", [("user.bob", "/belle/user/bob/x")])
    with pytest.raises(Forbidden):
        bob.set_metadata("user.alice", lpn, "data_type", "data")  # real Rucio says so with HTTP 500
    path = tmp_path / "intruder.root"
    path.write_bytes(b"x" * 100)
    with pytest.raises(Forbidden):
        bob.add_replicas(rucio.user_rse, [{"scope": "user.alice", "name": f"{lpn}/sub00/intruder.root",
                                           "bytes": 100, "adler32": adler32_file(path)}])  # fmt: skip
    assert set(f["name"] for f in bob.list_files("user.alice", f"{lpn}/sub00")) == set(files)  # reading is open


def test_rules_and_rses(rucio, alice, project):
    lpn, _ = project
    rses = {r["rse"] for r in alice.list_rses()}
    assert {rucio.user_rse, rucio.other_rse} <= rses
    assert rucio.user_rse in {r["rse"] for r in alice.list_rses(rucio.user_rse)}
    pfns = alice.lfns2pfns(rucio.user_rse, [f"user.alice:{lpn}/sub00/x.root"])
    assert next(iter(pfns.values())).endswith(f"{lpn}/sub00/x.root")
    rule_ids = alice.add_rule([("user.alice", f"{lpn}/sub00")], 1, rucio.user_rse)
    assert len(rule_ids) == 1
    rules = list(alice.list_rules("user.alice", f"{lpn}/sub00"))
    assert [r["id"] for r in rules] == rule_ids
    assert rules[0]["state"] == "OK" and rules[0]["rse_expression"] == rucio.user_rse
    assert alice.add_rule([("user.alice", f"{lpn}/sub00")], 1, rucio.user_rse, exist_ok=True) == rule_ids


def test_erase_deletes_and_frees_the_name(rucio, alice):
    lpn = f"/belle/user/alice/gone{run_id()}"
    alice.add_container("user.alice", lpn)
    alice.erase("user.alice", lpn)
    rucio.undertake()  # real Rucio deletes expired DIDs in its undertaker daemon
    assert not alice.did_exists("user.alice", lpn)
    # Rucio 41 lets a deleted collection name be created again (checked on the real
    # server); gbasf2's "never reuse a project name" is enforced by gb2 from the job
    # database (tests/test_cli_gbasf2.py::test_project_names_are_never_reused).
    assert alice.add_container("user.alice", lpn)


def test_not_found(alice):
    with pytest.raises(NotFound):
        alice.get_did("user.alice", f"/belle/user/alice/nothing{run_id()}")
