"""The Rucio side over real HTTP: gb2's Rucio client against the embedded server's catalogue."""

from __future__ import annotations

import zlib
from urllib.parse import quote_plus

import httpx
import pytest

from gb2.client.rucio import RucioClient, exception_class
from gb2.data.checksum import adler32_file
from gb2.data.lfn import Did
from gb2.errors import AuthError, Forbidden, NotFound, RequestRefused
from gb2.server.rucio.seed import (
    CHARGED,
    DATA,
    GENERIC_COLLECTION,
    SAMPLE_DATASETS,
    SIGNAL,
    SKIM,
    UUBAR,
)
from gb2.server.settings import User
from tests.conftest import device_login

ALICE_PROJECT = "/belle/user/alice/myproject"


@pytest.fixture
def alice_token(server) -> str:
    return device_login(server, "alice")["access_token"]


@pytest.fixture
def alice(server, alice_token) -> RucioClient:
    return RucioClient(f"{server.url}/rucio", token=lambda: alice_token)


@pytest.fixture
def bob(server) -> RucioClient:
    token = device_login(server, "bob")["access_token"]
    return RucioClient(f"{server.url}/rucio", token=lambda: token)


def _upload(server, token: str, se: str, lfn: str, data: bytes) -> dict:
    """Write a file to a storage element over HTTP, as a job or gb2_ds_put would."""
    r = httpx.put(f"{server.url}/se/{se}{lfn}", content=data, headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    return r.json()


def test_seeded_catalogue_is_container_datablocks_files(alice: RucioClient) -> None:
    assert alice.ping() == "41.5.1"
    assert alice.whoami()["account"] == "alice"
    for ds in SAMPLE_DATASETS:
        did = alice.did(ds.lpn)
        assert did.scope in ("mc", "data")
        assert alice.get_did(*did)["type"] == "CONTAINER"
        blocks = list(alice.list_content(*did))
        assert [(b["name"], b["type"]) for b in blocks] == [(f"{ds.lpn}/sub00", "DATASET")]
        files = list(alice.list_content(did.scope, blocks[0]["name"]))
        assert {f["type"] for f in files} == {"FILE"} and len(files) == ds.n_files
        listed = list(alice.list_files(*did))
        assert [(f["name"], f["events"]) for f in listed] == ds.files()
        sized = alice.get_did(*did, dynamic=True)
        assert sized["length"] == ds.n_files and sized["bytes"] == sum(f["bytes"] for f in listed)
        assert [p["name"] for p in alice.list_parents(did.scope, blocks[0]["name"])] == [ds.lpn]
    coll = alice.did(GENERIC_COLLECTION.lpn)
    assert coll == Did("collection", GENERIC_COLLECTION.lpn)
    assert [c["name"] for c in alice.list_content(*coll)] == sorted(GENERIC_COLLECTION.datasets)
    assert len(list(alice.list_files(*coll))) == UUBAR.n_files + CHARGED.n_files
    meta = alice.get_metadata(*coll, plugin="JSON")
    assert meta["int_luminosity"] == 1.0 and meta["description"]
    top = {d["name"] for d in alice.list_scope("mc")}  # DIDs without a parent
    assert SIGNAL.lpn in top and f"{SIGNAL.lpn}/sub00" not in top
    assert UUBAR.lpn not in top  # it is in a collection


def test_adler32_of_replicas_matches_bytes_served(server, alice: RucioClient, alice_token: str) -> None:
    files = list(alice.resolve(UUBAR.lpn))
    assert len(files) == UUBAR.n_files
    for f in files:
        assert f.events and sorted(f.rses) == ["DESY-DATA-SE", "KEK-DATA-SE"]
        for urls in f.pfns.values():
            (url,) = urls
            r = httpx.get(url, headers={"Authorization": f"Bearer {alice_token}"})
            assert r.status_code == 200
            assert len(r.content) == f.bytes
            assert f"{zlib.adler32(r.content) & 0xFFFFFFFF:08x}" == f.adler32
    # the lan ``file`` protocol points at the same bytes on disk
    (local,) = alice.resolve(SIGNAL.lpn + "/sub00/" + SIGNAL.files()[0][0].rsplit("/", 1)[1], domain="lan")
    (path,) = local.pfns["KEK-DATA-SE"]
    assert path.startswith("file://localhost/")
    assert adler32_file(path[len("file://localhost"):]) == local.adler32


def test_search_by_metadata_with_operators_and_or(alice: RucioClient) -> None:
    def names(scope, filters, **kw):
        return sorted(alice.search_dids(scope, filters, **kw))

    assert names("mc", {"data_type": "mc", "mc_event_type": "uubar"}) == sorted([UUBAR.lpn, SKIM.lpn])
    assert names("mc", [{"mc_event_type": "uubar", "data_level": "mdst"}]) == [UUBAR.lpn]
    assert names("mc", [{"experiment.gte": 1000}]) == sorted([UUBAR.lpn, CHARGED.lpn, SIGNAL.lpn])
    assert names("mc", [{"experiment.lt": 1000, "run": 0}]) == [SKIM.lpn]
    assert names("mc", [{"mc_event_type": "charged"}, {"skim_decay": "14120601"}]) == sorted([CHARGED.lpn, SKIM.lpn])
    assert names("mc", [{"campaign_name": "MC15r*"}]) == sorted(d.lpn for d in SAMPLE_DATASETS if d.scope == "mc")
    assert names("mc", [{"campaign_name.ne": "MC15ri_b"}]) == [SKIM.lpn]
    assert names("mc", [{"mc_event_type": 1111540100}]) == [SIGNAL.lpn]  # typed or not, "1111540100" matches
    assert names("data", [{"data_type": "data", "experiment": "18"}]) == [DATA.lpn]
    assert names("data", [{"beam_energy": "4S", "general_skim": "hadron"}]) == []
    (long,) = alice.search_dids("mc", [{"prod_id": 25690}], long=True)
    assert long == {"scope": "mc", "name": SIGNAL.lpn, "did_type": None, "bytes": None, "length": None}
    assert sorted(alice.search_datasets({"beam_energy": "4S", "bkg_level": "BGx1"})) == sorted(d.lpn for d in SAMPLE_DATASETS if d.scope == "mc")
    assert list(alice.search_dids("collection", {"int_luminosity.gt": 0.5})) == [GENERIC_COLLECTION.lpn]
    # DID-column searches: files by events, datasets by name pattern
    heavy = names("mc", [{"events.gte": 400}], did_type="file")
    assert heavy and all(n.endswith(".root") for n in heavy)
    assert names("mc", [{"name": f"{UUBAR.lpn}/*"}], did_type="dataset") == [f"{UUBAR.lpn}/sub00"]
    assert len(list(alice.search_dids("mc", [{"campaign_name": "*"}], limit=2))) == 2


def test_search_mixing_column_and_json_keys_is_refused(server, alice: RucioClient, alice_token: str) -> None:
    with pytest.raises(RequestRefused) as err:
        list(alice.search_dids("mc", [{"events.gt": 1, "data_type": "mc"}]))
    assert exception_class(err.value) == "InvalidMetadata" and err.value.status_code == 500
    with pytest.raises(RequestRefused):
        list(alice.search_dids("mc", [{"campaign": "x"}, {"data_type": "mc"}]))
    r = httpx.get(f"{server.url}/rucio/dids/mc/dids/search",
                  params={"filters": repr([{"campaign": "c24", "exp": 12}])},
                  headers={"X-Rucio-Auth-Token": alice_token})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.json() == {"ExceptionClass": "InvalidMetadata",
                        "ExceptionMessage": "Filter keys used do not all belong to the same metadata plugin."}
    assert r.headers["ExceptionClass"] == "InvalidMetadata"


def test_replicas_of_a_collection_span_two_ses(alice: RucioClient) -> None:
    records = list(alice.list_replicas([alice.did(GENERIC_COLLECTION.lpn)]))
    assert len(records) == UUBAR.n_files + CHARGED.n_files
    for rec in records:
        assert set(rec["rses"]) == {"KEK-DATA-SE", "DESY-DATA-SE"}
        assert rec["states"] == {"KEK-DATA-SE": "AVAILABLE", "DESY-DATA-SE": "AVAILABLE"}
        assert sorted(p["priority"] for p in rec["pfns"].values()) == [1, 2]
        assert {p["domain"] for p in rec["pfns"].values()} == {"wan"}
    only_kek = list(alice.list_replicas([alice.did(UUBAR.lpn)], rse_expression="KEK-DATA-SE"))
    assert all(list(r["rses"]) == ["KEK-DATA-SE"] for r in only_kek)
    signal = list(alice.list_replicas([alice.did(SIGNAL.lpn)], domain="all"))
    assert all(set(r["rses"]) == {"KEK-DATA-SE"} and len(r["pfns"]) == 2 for r in signal)
    # automatic domain: lan doors (file://) only for RSEs at the client's site, listed first
    for rec in alice.list_replicas([alice.did(UUBAR.lpn)], client_site="LCG.DESY.de", sort=None):
        doors = [(p["rse"], p["domain"], p["priority"]) for p in rec["pfns"].values()]
        assert doors[0] == ("DESY-DATA-SE", "lan", 1)
        assert sorted(doors[1:]) == [("DESY-DATA-SE", "wan", 2), ("KEK-DATA-SE", "wan", 3)] or \
            sorted(doors[1:]) == [("DESY-DATA-SE", "wan", 3), ("KEK-DATA-SE", "wan", 2)]
        assert rec["rses"]["DESY-DATA-SE"][0].startswith("file://localhost/")
    with pytest.raises(NotFound):
        list(alice.list_replicas([("mc", "/belle/MC/nothing/here")]))
    summary = list(alice.list_dataset_replicas("mc", f"{UUBAR.lpn}/sub00"))
    assert {(s["rse"], s["state"], s["available_length"]) for s in summary} == {
        ("KEK-DATA-SE", "AVAILABLE", 3), ("DESY-DATA-SE", "AVAILABLE", 3)}


def test_user_registers_files_in_own_scope(server, alice: RucioClient, alice_token: str) -> None:
    blocks = alice.create_project(ALICE_PROJECT, 2, meta={"campaign_name": "mine"})
    assert [b.name for b in blocks] == [f"{ALICE_PROJECT}/sub00", f"{ALICE_PROJECT}/sub01"]
    assert blocks[0].scope == "user.alice"
    payloads = {f"{ALICE_PROJECT}/sub00/out_{i:05d}_job{100 + i}_00.root": f"output {i}\n".encode() * 50
                for i in range(3)}
    files = []
    for lfn, data in payloads.items():
        stored = _upload(server, alice_token, "KEK-TMP-DISK-SE", lfn, data)
        files.append({"name": lfn, "bytes": stored["bytes"], "adler32": stored["adler32"], "events": 10,
                      "meta": {"job_id": 100}})
    alice.register_files("KEK-TMP-DISK-SE", files, f"{ALICE_PROJECT}/sub00")
    alice.register_files("KEK-TMP-DISK-SE", files, f"{ALICE_PROJECT}/sub00")  # idempotent
    listed = list(alice.list_files("user.alice", ALICE_PROJECT))
    assert [f["name"] for f in listed] == sorted(payloads)
    assert all(f["events"] == 10 for f in listed)
    assert alice.get_metadata("user.alice", sorted(payloads)[0], plugin="JSON") == {"job_id": 100}
    assert list(alice.search_dids("user.alice", {"job_id": 100})) == sorted(payloads)
    for f in alice.resolve(ALICE_PROJECT):
        (url,) = f.pfns["KEK-TMP-DISK-SE"]
        assert httpx.get(url, headers={"Authorization": f"Bearer {alice_token}"}).content == payloads[f.name]
    assert alice.add_dataset("user.alice", f"{ALICE_PROJECT}/sub00", exist_ok=True) is False
    # the job engine's view of the same catalogue
    cat = server.state.services["rucio"]
    name = sorted(payloads)[0]
    assert cat.replica_locations([name, "/belle/nope"]) == {name: ["KEK-TMP-DISK-SE"]}
    assert cat.file_info([name])[name]["events"] == 10
    assert cat.exists(ALICE_PROJECT) and not cat.exists(f"{ALICE_PROJECT}/sub99")
    alice.detach("user.alice", f"{ALICE_PROJECT}/sub00", [("user.alice", name)])
    assert len(list(alice.list_files("user.alice", f"{ALICE_PROJECT}/sub00"))) == 2


def test_permissions_follow_scope_ownership(alice: RucioClient, bob: RucioClient) -> None:
    alice.add_container("user.alice", ALICE_PROJECT)
    with pytest.raises(Forbidden) as err:
        bob.add_dataset("user.alice", f"{ALICE_PROJECT}/sub00")
    assert exception_class(err.value) == "AccessDenied" and err.value.status_code == 401
    with pytest.raises(Forbidden):
        bob.attach("user.alice", ALICE_PROJECT, [("mc", UUBAR.lpn)])
    with pytest.raises(Forbidden):
        bob.set_metadata("user.alice", ALICE_PROJECT, "data_type", "mc")
    with pytest.raises(Forbidden):
        bob.add_container("mc", "/belle/MC/release-99/fake")
    with pytest.raises(Forbidden):  # users write only to TMP storage
        bob.add_replicas("KEK-DATA-SE", [{"scope": "user.bob", "name": "/belle/user/bob/x.root",
                                          "bytes": 1, "adler32": "00000001"}])
    with pytest.raises(RequestRefused):  # a user's names lie below its own user directory
        bob.add_container("user.bob", "/belle/user/alice/sneaky")
    assert bob.get_did("user.alice", ALICE_PROJECT)["account"] == "alice"  # reading is open
    bob.add_container("user.bob", "/belle/user/bob/mine")
    bob.attach("user.bob", "/belle/user/bob/mine", [("mc", UUBAR.lpn)])  # official data into own container


def test_erase_deletes_collections_and_refuses_deleted_file_names(server, alice: RucioClient, alice_token: str) -> None:
    alice.create_project(ALICE_PROJECT)
    lfn = f"{ALICE_PROJECT}/sub00/f.root"
    stored = _upload(server, alice_token, "KEK-TMP-DISK-SE", lfn, b"x" * 100)
    alice.register_files("KEK-TMP-DISK-SE", [{"name": lfn, "bytes": 100, "adler32": stored["adler32"]}],
                         f"{ALICE_PROJECT}/sub00")
    path = server.state.services["rucio"].physical_path("KEK-TMP-DISK-SE", lfn)
    assert path.exists()
    alice.erase("user.alice", ALICE_PROJECT)
    for name in (ALICE_PROJECT, f"{ALICE_PROJECT}/sub00", lfn):
        assert not alice.did_exists("user.alice", name)
    assert not path.exists()
    # As on real Rucio once its undertaker ran: the collection names are free again...
    assert alice.add_container("user.alice", ALICE_PROJECT)
    # ...while a deleted file name stays refused here.
    with pytest.raises(RequestRefused):
        alice.add_replicas("KEK-TMP-DISK-SE", [{"scope": "user.alice", "name": lfn, "bytes": 100,
                                                "adler32": stored["adler32"]}])
    assert server.state.services["rucio"].is_used(lfn)


def test_rules_copy_to_tmp_storage(alice: RucioClient) -> None:
    block = alice.did(f"{UUBAR.lpn}/sub00")
    (rule_id,) = alice.add_rule([block], 1, "KEK-TMP-DISK-SE", lifetime=3600)
    rule = alice.get_rule(rule_id)
    assert (rule["state"], rule["locks_ok_cnt"], rule["account"], rule["name"]) == ("OK", 3, "alice", block.name)
    assert rule["expires_at"]
    assert [r["id"] for r in alice.list_rules(*block)] == [rule_id]
    assert alice.add_rule([block], 1, "KEK-TMP-DISK-SE", exist_ok=True) == [rule_id]
    with pytest.raises(RequestRefused) as err:
        alice.add_rule([block], 1, "KEK-TMP-DISK-SE")
    assert exception_class(err.value) == "DuplicateRule"
    for rec in alice.list_replicas([block]):
        assert set(rec["rses"]) == {"KEK-DATA-SE", "DESY-DATA-SE", "KEK-TMP-DISK-SE"}
    (rule2,) = alice.add_rule([block], 2, "type=TMP")
    assert alice.get_rule(rule2)["locks_ok_cnt"] == 6
    with pytest.raises(Forbidden):
        alice.add_rule([block], 1, "KEK-DATA-SE")
    alice.delete_rule(rule_id)
    alice.delete_rule(rule_id, missing_ok=True)
    with pytest.raises(NotFound):
        alice.get_rule(rule_id)


def test_rse_listing_usage_and_pfns(server, alice: RucioClient) -> None:
    assert {r["rse"] for r in alice.list_rses()} == {"KEK-DATA-SE", "KEK-TMP-DISK-SE", "DESY-DATA-SE", "DESY-TMP-SE"}
    assert [r["rse"] for r in alice.list_rses("type=TMP")] == ["DESY-TMP-SE", "KEK-TMP-DISK-SE"]
    assert [r["rse"] for r in alice.list_rses("KEK-DATA-SE|DESY-TMP-SE")] == ["DESY-TMP-SE", "KEK-DATA-SE"]
    assert [r["rse"] for r in alice.list_rses("city=Tsukuba&type=DATA")] == ["KEK-DATA-SE"]
    for bad in ("NO-SUCH-SE", "site=LCG.KEK.jp"):  # Rucio's grammar has no dots in attribute values
        with pytest.raises(RequestRefused) as err:
            alice.list_rses(bad)
        assert exception_class(err.value) == "InvalidRSEExpression"
    kek = [ds for ds in SAMPLE_DATASETS if "KEK-DATA-SE" in ds.rses]
    usage, storage = alice.rse_usage("KEK-DATA-SE")  # what Rucio counts, and what the storage reports
    expected = [f for ds in kek for f in alice.list_files(*alice.did(ds.lpn))]
    assert usage["files"] == len(expected) and usage["used"] == sum(f["bytes"] for f in expected)
    assert (storage["source"], storage["used"], storage["total"]) == ("storage", usage["used"], 10**15)
    assert storage["free"] == storage["total"] - storage["used"]
    assert alice.rse_usage("DESY-TMP-SE")[0]["files"] == 0
    port = httpx.URL(server.url).port
    http = next(p for p in alice.get_protocols("KEK-TMP-DISK-SE") if p["scheme"] == "http")
    assert (http["hostname"], http["port"], http["prefix"]) == ("127.0.0.1", port, "/se/KEK-TMP-DISK-SE")
    assert alice.get_rse("DESY-DATA-SE")["rse"] == "DESY-DATA-SE"
    assert alice.rse_attributes("DESY-TMP-SE")["type"] == "TMP"
    lfn = f"user.alice:{ALICE_PROJECT}/sub00/a.root"
    assert alice.lfns2pfns("KEK-TMP-DISK-SE", [lfn]) == {
        lfn: f"{server.url}/se/KEK-TMP-DISK-SE{ALICE_PROJECT}/sub00/a.root"}
    local = alice.lfns2pfns("KEK-TMP-DISK-SE", [lfn], scheme="file", domain="lan")[lfn]
    assert local == "file://localhost" + str(server.state.services["rucio"].physical_path("KEK-TMP-DISK-SE", lfn.split(":")[1]))
    with pytest.raises(NotFound):
        alice.get_rse("NOPE-SE")


def test_userpass_authentication(server_factory) -> None:
    srv = server_factory(users=[User("alice", password="pw"), User("bob")])
    url = f"{srv.url}/rucio"
    client = RucioClient(url, account="alice", username="alice", password="pw")
    assert client.whoami()["account"] == "alice"
    first = client.token()
    assert client.token() == first  # cached
    client._cached = (first, 0.0)  # about to expire: renewed
    assert client.token() != first
    assert list(client.search_dids("mc", {"data_type": "mc"}, limit=1))
    with pytest.raises(AuthError):
        RucioClient(url, account="alice", username="alice", password="wrong").whoami()
    with pytest.raises(AuthError):
        RucioClient(url, account="bob", username="bob", password="pw").whoami()
    r = httpx.get(f"{url}/auth/userpass", headers={"X-Rucio-Account": "alice", "X-Rucio-Username": "alice",
                                                   "X-Rucio-Password": "wrong"})
    assert (r.status_code, r.json()["ExceptionClass"]) == (401, "CannotAuthenticate")
    r = httpx.get(f"{url}/auth/validate", headers={"X-Rucio-Auth-Token": client.token()})
    assert r.status_code == 200 and r.text.startswith("{'account': 'alice'")


def test_error_shapes_and_content_types(server, alice_token: str) -> None:
    base = f"{server.url}/rucio"
    auth = {"X-Rucio-Auth-Token": alice_token}
    r = httpx.get(f"{base}/dids/mc/{quote_plus(UUBAR.lpn)}")
    assert r.status_code == 400 and r.headers["content-type"] == "application/octet-stream"
    assert r.json() == {"ExceptionClass": "ValueError", "ExceptionMessage": "Token must be set."}
    assert r.headers["ExceptionMessage"] == "Token must be set."
    r = httpx.get(f"{base}/dids/mc/{quote_plus(UUBAR.lpn)}/files", headers={**auth, "Accept": "application/json"})
    assert r.status_code == 406 and r.json()["ExceptionClass"] == "UnsupportedRequestedContentType"
    for accept in ("application/x-json-stream", "*/*"):
        r = httpx.get(f"{base}/dids/mc/{quote_plus(UUBAR.lpn)}/files", headers={**auth, "Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-json-stream"
    r = httpx.get(f"{base}/dids/mc/{quote_plus('/belle/MC/none')}", headers=auth)
    assert r.status_code == 404
    assert r.json() == {"ExceptionClass": "DataIdentifierNotFound",
                        "ExceptionMessage": "Data identifier 'mc:/belle/MC/none' not found"}
    r = httpx.post(f"{base}/dids/user.alice/{quote_plus(ALICE_PROJECT)}", headers=auth, json={"type": "CONTAINER"})
    assert (r.status_code, r.text, r.headers["content-type"]) == (201, "Created", "text/html; charset=utf-8")
    r = httpx.post(f"{base}/dids/user.alice/{quote_plus(ALICE_PROJECT)}", headers=auth, json={"type": "CONTAINER"})
    assert r.status_code == 409 and r.json()["ExceptionMessage"] == "Data Identifier already exists!"
    r = httpx.post(f"{base}/rules/", headers=auth, json={
        "dids": [{"scope": "mc", "name": UUBAR.lpn}], "account": "alice", "copies": 1,
        "rse_expression": "DESY-TMP-SE", "grouping": "DATASET", "lifetime": None})
    assert r.status_code == 201 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert len(r.json()) == 1 and len(r.json()[0]) == 32
    r = httpx.get(f"{base}/accounts/whoami", headers=auth)
    assert r.status_code == 303 and r.headers["location"] == "/rucio/accounts/alice"
    r = httpx.post(f"{base}/replicas/list", headers={**auth, "Accept": "application/metalink4+xml"},
                   json={"dids": [{"scope": "mc", "name": f"{SIGNAL.lpn}/sub00"}]})
    assert r.headers["content-type"].startswith("application/metalink4+xml")
    assert r.text.count("<file ") == SIGNAL.n_files and "<hash type=\"adler32\">" in r.text
    meta = httpx.get(f"{base}/dids/mc/{quote_plus(UUBAR.lpn)}/meta", headers=auth).json()
    assert meta["did_type"] == "CONTAINER" and "data_type" not in meta and len(meta) == 42
    assert httpx.get(f"{base}/ping").json() == {"version": "41.5.1"}


def test_catalogue_survives_restart_without_reseeding(server_factory, tmp_path) -> None:
    data_dir = tmp_path / "srv"
    srv = server_factory(data_dir=data_dir)
    token = device_login(srv, "alice")["access_token"]
    client = RucioClient(f"{srv.url}/rucio", token=lambda: token)
    client.add_container("user.alice", ALICE_PROJECT, meta={"data_type": "mc"})
    before = client.get_metadata("mc", UUBAR.lpn)["created_at"]
    files_before = list(client.list_files(*client.did(UUBAR.lpn)))
    srv.stop()
    srv2 = server_factory(data_dir=data_dir)
    token = device_login(srv2, "alice")["access_token"]
    client = RucioClient(f"{srv2.url}/rucio", token=lambda: token)
    assert client.get_metadata("user.alice", ALICE_PROJECT, plugin="JSON") == {"data_type": "mc"}
    assert client.get_metadata("mc", UUBAR.lpn)["created_at"] == before
    assert list(client.list_files(*client.did(UUBAR.lpn))) == files_before
    assert len(list(client.search_dids("mc", {"data_type": "mc"}))) == 4
    (record, *_) = client.list_replicas([client.did(UUBAR.lpn)])
    assert all(url.startswith(srv2.url) for url in record["pfns"])


def test_numbers_beyond_64_bits_are_refused_with_400(server, alice_token: str) -> None:
    """A search with a number SQLite cannot store is the request's fault: 400, before the stream starts
    (it used to be a 500 in the middle of a cut stream)."""
    filters = repr([{"experiment": 10**30}])
    r = httpx.get(f"{server.url}/rucio/dids/mc/dids/search", params={"filters": filters, "type": "container"},
                  headers={"X-Rucio-Auth-Token": alice_token})  # fmt: skip
    assert r.status_code == 400 and r.headers["ExceptionClass"] == "InvalidValueForKey", r.text
    ranged = repr([{"run.gte": 1, "run.lte": 2**64}])
    r = httpx.get(f"{server.url}/rucio/dids/mc/dids/search", params={"filters": ranged, "type": "container"},
                  headers={"X-Rucio-Auth-Token": alice_token})  # fmt: skip
    assert r.status_code == 400 and "out of range" in r.headers["ExceptionMessage"]
