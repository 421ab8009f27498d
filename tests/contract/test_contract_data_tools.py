"""The data tools of issue 14 against the embedded server and the real Rucio 41.5.1.

Client level (both targets): account limits and usage, RSE availability and the
replica listing that skips storage elements down, RSE distances and the closest-
replica order built from them. Command level (real servers): gb2_ds_put,
gb2_ds_query_dataset, gb2_check_quota, gb2_ds_cp, gb2_ds_collection,
gb2_ds_get with its manifest and gb2_ds_verify, gb2_ds_list -lg closest first.

What the real server does differently, and why the tests say so:

* account usage: real Rucio counts rule locks in its ``abacus-account`` daemon,
  which runs here only when a test calls it; the embedded catalogue counts at once;
* RSE distances: the test deployment sets none, so a test sets one as root;
* storage: the real RSEs are POSIX folders (``file://``), so uploads and downloads
  are local copies there; the HTTP paths are exercised against the embedded server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gb2.client.rucio import RucioClient, exception_class
from gb2.data.checksum import adler32_file
from gb2.data.register import register_outputs
from gb2.data.replica_order import replica_order
from gb2.errors import Forbidden, RequestRefused
from gb2.standin.synth import write_synthetic_mdst
from tests.contract.targets import run_id
from tests.contract.test_contract_commands import gb2, logged_in, user  # noqa: F401 (fixtures)
from tests.contract.test_contract_rucio import alice, bob  # noqa: F401 (fixtures)

QUOTA = 10**13  # both deployments give alice 10 TB on each TMP storage element


class Admin:
    """What only the catalogue's administrator may do: root on real Rucio, the server itself
    on the embedded one (whose root has no login)."""

    def __init__(self, request: pytest.FixtureRequest, rucio) -> None:  # type: ignore[no-untyped-def]
        self.real = rucio.real
        if self.real:
            real = request.getfixturevalue("real_rucio")
            self.client = RucioClient(real.url, account=real.root.account, username=real.root.username,
                                      password=real.root.password)  # fmt: skip
            self.daemon = real.run_daemon
        else:
            self.catalog = request.getfixturevalue("embedded_grid").state.services["rucio"]

    def set_readable(self, rse: str, readable: bool) -> None:
        if self.real:
            self.client.update_rse(rse, availability_read=readable)
        else:
            from gb2.server.rucio import rse_status

            rse_status.update_rse(self.catalog, None, rse, {"availability_read": readable})

    def set_distance(self, source: str, dest: str, distance: int) -> None:
        if self.real:
            self.client.set_distance(source, dest, distance)
        else:
            from gb2.server.rucio import rse_status

            rse_status.set_distance(self.catalog, None, source, dest, distance, create=False)

    def count_usage(self) -> None:
        """Real Rucio's account counters are updated by a daemon; the embedded ones need nothing."""
        if self.real:
            self.daemon("rucio-abacus-account")


@pytest.fixture(scope="module")
def admin(request, rucio) -> Admin:
    return Admin(request, rucio)


def test_account_limits_and_usage_shapes(rucio, alice, bob):  # noqa: F811 (imported fixtures)
    limits = alice.local_account_limits("alice")
    assert limits[rucio.user_rse] == QUOTA and limits[rucio.other_rse] == QUOTA
    assert alice.local_account_limits("alice", rucio.user_rse) == {rucio.user_rse: QUOTA}
    usage = {u["rse"]: u for u in alice.local_account_usage("alice")}
    row = usage[rucio.user_rse]
    assert {"rse_id", "rse", "bytes", "files", "bytes_limit", "bytes_remaining"} <= set(row)
    assert row["bytes_limit"] == QUOTA and row["bytes_remaining"] == QUOTA - row["bytes"]
    assert [u["rse"] for u in alice.local_account_usage("alice", rucio.user_rse)] == [rucio.user_rse]
    with pytest.raises(Forbidden):  # only the account itself (or an administrator) sees its usage
        bob.local_account_usage("alice")
    with pytest.raises(Forbidden):
        alice.set_local_account_limit("alice", rucio.user_rse, 1)


def test_usage_counts_a_rule_locked_upload(rucio, alice, admin, tmp_path):  # noqa: F811 (imported fixtures)
    admin.count_usage()
    before = {u["rse"]: u for u in alice.local_account_usage("alice")}[rucio.user_rse]
    lpn = f"/belle/user/alice/quota{run_id()}"
    alice.create_project(lpn)
    path = tmp_path / "quota.root"
    path.write_bytes(os.urandom(12_345))
    register_outputs(alice, rucio.user_rse, [(path, f"{lpn}/sub00/{path.name}", None)])
    alice.add_rule([alice.did(f"{lpn}/sub00")], 1, rucio.user_rse, exist_ok=True)
    admin.count_usage()
    after = {u["rse"]: u for u in alice.local_account_usage("alice")}[rucio.user_rse]
    assert (after["bytes"] - before["bytes"], after["files"] - before["files"]) == (12_345, 1)


def test_storage_down_is_left_out_of_replica_listings(rucio, alice, admin, tmp_path):  # noqa: F811 (imported fixtures)
    lpn = f"/belle/user/alice/down{run_id()}"
    alice.create_project(lpn)
    path = tmp_path / "down.root"
    path.write_bytes(os.urandom(2000))
    register_outputs(alice, rucio.user_rse, [(path, f"{lpn}/sub00/{path.name}", None)])
    did = alice.did(lpn)
    admin.set_readable(rucio.user_rse, False)
    try:
        assert alice.get_rse(rucio.user_rse)["availability_read"] is False
        assert {r["rse"]: r["availability_read"] for r in alice.list_rses()}[rucio.user_rse] is False
        assert all(rucio.user_rse not in (r.get("rses") or {}) for r in alice.list_replicas([did]))
        shown = list(alice.list_replicas([did], ignore_availability=True))
        assert [rucio.user_rse in r["rses"] for r in shown] == [True]
        order = replica_order(alice, None)
        assert rucio.user_rse in order.down and order.usable([rucio.user_rse, rucio.other_rse]) == [rucio.other_rse]
    finally:
        admin.set_readable(rucio.user_rse, True)
    assert [rucio.user_rse in r["rses"] for r in alice.list_replicas([did])] == [True]


def test_distances_and_the_closest_replica_order(rucio, alice, admin):  # noqa: F811 (imported fixtures)
    admin.set_distance("KEK-TMP-DISK-SE", "DESY-TMP-SE", 5)
    assert alice.get_distance("KEK-TMP-DISK-SE", "DESY-TMP-SE") == 5
    with pytest.raises(Forbidden):
        alice.set_distance("KEK-TMP-DISK-SE", "DESY-TMP-SE", 1)
    order = replica_order(alice, "LCG.KEK.jp")
    assert "KEK-TMP-DISK-SE" in order.local and "DESY-TMP-SE" not in order.local
    assert order.sort(["DESY-TMP-SE", "KEK-TMP-DISK-SE"]) == ["KEK-TMP-DISK-SE", "DESY-TMP-SE"]
    assert order.distances["DESY-TMP-SE"] == 5
    elsewhere = replica_order(alice, "LCG.DESY.de")
    assert elsewhere.sort(["KEK-TMP-DISK-SE", "DESY-TMP-SE"])[0] == "DESY-TMP-SE"
    nowhere = replica_order(alice, "LCG.Nowhere.xx")
    assert nowhere.local == frozenset() and nowhere.site == "LCG.Nowhere.xx"
    # Why the order reads each RSE's site attribute: a DIRAC site name cannot be an RSE
    # expression value (Rucio's grammar has no dots there).
    with pytest.raises(RequestRefused) as err:
        alice.list_rses("site=LCG.KEK.jp")
    assert exception_class(err.value) == "InvalidRSEExpression"


# -- the commands against the real servers -----------------------------------------------------


@pytest.fixture(scope="module")
def real_admin(real_rucio) -> RucioClient:
    return RucioClient(real_rucio.url, account=real_rucio.root.account, username=real_rucio.root.username,
                       password=real_rucio.root.password)  # fmt: skip


def run_json(user, *args: str, cwd: Path | None = None, code: int = 0) -> dict:  # noqa: F811
    done = gb2(user, *args, "--json", cwd=cwd)
    assert done.returncode == code, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_data_tools_on_the_real_servers(user, logged_in, real_rucio, real_admin, tmp_path):  # noqa: F811
    tag = run_id()
    src = tmp_path / "mine"
    src.mkdir()
    for i, events in enumerate((110, 90, 75)):
        write_synthetic_mdst(src / f"skim_{i}.root", events, seed=i, event_type="uubar")
    (src / "notes.dat").write_bytes(os.urandom(4321))
    total = sum(p.stat().st_size for p in src.iterdir())
    kek, desy = "KEK-TMP-DISK-SE", "DESY-TMP-SE"

    real_rucio.run_daemon("rucio-abacus-account")
    quota_before = {q["se"]: q for q in run_json(user, "gb2_check_quota")["storage_elements"]}
    assert quota_before[kek]["limit_bytes"] == QUOTA

    put = run_json(user, "gb2_ds_put", "-d", kek, "-i", str(src), f"put{tag}", "--force")
    lpn = f"/belle/user/alice/put{tag}"
    assert put["ok"] and len(put["uploaded"]) == 4 and put["bytes"] == total
    for name in ("skim_0.root", "notes.dat"):
        on_disk = real_rucio.prefix(kek) / lpn.lstrip("/") / "sub00" / name
        assert on_disk.read_bytes() == (src / name).read_bytes()
    events = {f["lfn"].rsplit("/", 1)[1]: f["nEvents"] for f in run_json(user, "gb2_ds_query_file", lpn, "-m",
                                                                         "lfn,nEvents")["files"]}  # fmt: skip
    assert events == {"skim_0.root": 110, "skim_1.root": 90, "skim_2.root": 75, "notes.dat": None}
    again = run_json(user, "gb2_ds_put", "-d", kek, "-i", str(src), f"put{tag}", "--force")
    assert again["uploaded"] == [] and len(again["already_present"]) == 4
    refused = gb2(user, "gb2_ds_put", "-d", "KEK-DATA-SE", "-i", str(src), f"no{tag}", "--force")
    assert refused.returncode == 2 and "only to TMP ones" in refused.stderr

    (info,) = run_json(user, "gb2_ds_query_dataset", lpn)["datasets"]
    assert (info["files"], info["events"], info["bytes"], info["datablocks"]) == (4, 275, total, 1)
    assert [(s["se"], s["files"], s["complete"]) for s in info["storage_elements"]] == [(kek, 4, True)]

    real_rucio.run_daemon("rucio-abacus-account")  # real Rucio counts usage in this daemon
    quota_after = {q["se"]: q for q in run_json(user, "gb2_check_quota")["storage_elements"]}
    assert quota_after[kek]["used_bytes"] - quota_before[kek]["used_bytes"] == total
    assert quota_after[kek]["files"] - quota_before[kek]["files"] == 4

    cp = run_json(user, "gb2_ds_cp", lpn, f"cp{tag}", "-d", desy, "--force")
    assert cp["ok"] and len(cp["uploaded"]) == 4
    copy = f"/belle/user/alice/cp{tag}"
    rucio = RucioClient(real_rucio.url, account="alice", username="alice", password=real_rucio.alice.password)
    assert {tuple(f.rses) for f in rucio.resolve(copy)} == {(desy,)}  # new replicas only

    made = run_json(user, "gb2_ds_collection", "create", f"c{tag}", lpn, copy, "--description", "both")
    collection = f"/belle/user/alice/collection/c{tag}"
    assert made["collection"] == collection and made["datasets"] == sorted([lpn, copy])
    found = gb2(user, "gb2_ds_search", "collection", "--list_all_collections", "/belle/user/alice/collection/*")
    assert collection in found.stdout.split()
    assert run_json(user, "gb2_ds_search", "collection", "--list_datasets", collection)["datasets"] == sorted([lpn, copy])
    dry = run_json(user, "gbasf2", str(Path(__file__).resolve().parents[2] / "steering_examples" / "ntuple_analysis.py"),
                   "-p", f"coll{tag}", "-s", "light-2511-gacrux", "-i", collection, "--dryrun")  # fmt: skip
    assert dry["input_files"] == 8
    assert run_json(user, "gb2_ds_collection", "remove", f"c{tag}", copy)["datasets"] == [lpn]
    assert gb2(user, "gb2_ds_collection", "delete", f"c{tag}", "--force").returncode == 0
    for _ in range(2):
        real_rucio.run_daemon("rucio-undertaker")
    assert gb2(user, "gb2_ds_list", collection).returncode == 5 and gb2(user, "gb2_ds_list", lpn).returncode == 0

    got = run_json(user, "gb2_ds_get", copy, "--force", cwd=tmp_path)
    assert got["ok"] and len(got["downloaded"]) == 4
    manifest = json.loads((tmp_path / f"cp{tag}" / "gb2_manifest.json").read_text())
    assert {e["se"] for e in manifest["files"].values()} == {desy}
    assert gb2(user, "gb2_ds_verify", f"cp{tag}", cwd=tmp_path).returncode == 0
    victim = tmp_path / f"cp{tag}" / "sub00" / "notes.dat"
    victim.write_bytes(b"\0" * victim.stat().st_size)
    assert gb2(user, "gb2_ds_verify", f"cp{tag}", cwd=tmp_path).returncode == 1
    assert run_json(user, "gb2_ds_get", copy, "--force", cwd=tmp_path)["downloaded"] == [f"{copy}/sub00/notes.dat"]
    assert adler32_file(victim) == adler32_file(src / "notes.dat")

    # The same file on both TMP storage elements: listed and read closest first, down ones skipped.
    name = f"{lpn}/sub00/skim_1.root"
    (pfn,) = rucio.lfns2pfns(desy, [f"user.alice:{name}"], operation="write").values()
    target = Path(pfn.removeprefix("file://localhost"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((src / "skim_1.root").read_bytes())
    rucio.add_replicas(desy, [{"scope": "user.alice", "name": name, "bytes": target.stat().st_size,
                               "adler32": adler32_file(target)}])  # fmt: skip

    def se_lines(site: str) -> list[str]:
        listing = gb2({**user, "env": {**user["env"], "GB2_SITE": site}}, "gb2_ds_list", "-lg", name)
        assert listing.returncode == 0, listing.stderr
        return [line.split(":")[0].strip() for line in listing.stdout.splitlines() if line.startswith("    ")]

    assert se_lines("LCG.DESY.de") == [desy, kek] and se_lines("LCG.KEK.jp") == [kek, desy]
    real_admin.update_rse(kek, availability_read=False)
    try:
        down = gb2({**user, "env": {**user["env"], "GB2_SITE": "LCG.KEK.jp"}}, "gb2_ds_list", "-lg", name)
        assert f"{kek}: replica AVAILABLE (storage element down)" in down.stdout, down.stdout
        (tmp_path / "one").mkdir()
        fetched = run_json({**user, "env": {**user["env"], "GB2_SITE": "LCG.KEK.jp"}}, "gb2_ds_get", name,
                           "--force", cwd=tmp_path / "one")  # fmt: skip
        assert fetched["ok"]
        entries = json.loads((tmp_path / "one" / f"put{tag}" / "gb2_manifest.json").read_text())["files"]
        assert [e["se"] for e in entries.values()] == [desy]
    finally:
        real_admin.update_rse(kek, availability_read=True)
