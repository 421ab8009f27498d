"""Raw-HTTP smoke tests of the real servers' setup (no gb2 client code involved).

They prove that the fixtures give the contract suite what it needs: DiracX logins as
alice and bob through the device flow, jobs and sandboxes with ownership checks; Rucio
userpass logins, Belle II path names and scopes, replicas on POSIX RSEs, JSON metadata
and refusals in other users' scopes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.parse
import zlib
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NDJSON = "application/x-json-stream"

USER_CONTAINER = "/belle/user/alice/gb2smoke"
USER_DATASET = f"{USER_CONTAINER}/sub00"
USER_FILE = f"{USER_DATASET}/file_00000_job1_00.root"
MC_DATASET = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00024821/s00/e1003/4S/r00000/mixed/mdst/sub00"


def claims(jwt_token: str) -> dict:
    payload = jwt_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def q(name: str) -> str:
    """A DID name in a Rucio URL path: percent-encoded, slashes included."""
    return urllib.parse.quote(name, safe="")


def ndjson(r: httpx.Response) -> list:
    assert r.headers["content-type"].startswith(NDJSON), r.headers
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


# --------------------------------------------------------------------------- DiracX
def device_flow(diracx, username: str, group: str | None, *, via: str) -> dict:
    """The OAuth2 device flow with plain httpx; the test plays the user's browser."""
    scope = f"vo:{diracx.vo}" + (f" group:{group}" if group else "")
    with httpx.Client(timeout=30) as c:
        r = c.post(f"{diracx.url}/api/auth/device", params={"client_id": diracx.client_id, "scope": scope})
        assert r.status_code == 200, r.text
        flow = r.json()
        pending = c.post(f"{diracx.url}/api/auth/token", data={
            "grant_type": DEVICE_GRANT, "device_code": flow["device_code"], "client_id": diracx.client_id})
        assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
        if via == "next_user":
            # tell the IdP who logs in next, then open the URL like a browser would
            assert c.post(f"{diracx.idp_url}/_next_user", json={"username": username}).status_code == 200
            r = c.get(flow["verification_uri_complete"], follow_redirects=True)
        elif via == "cookie":
            # a browser that has an IdP session (cookies ignore ports: sent to 127.0.0.1:*)
            assert c.get(f"{diracx.idp_url}/_login", params={"username": username}).status_code == 200
            r = c.get(flow["verification_uri_complete"], follow_redirects=True)
        else:
            # walk the redirects; at the IdP's /authorize add the OIDC login_hint
            url = flow["verification_uri_complete"]
            for _ in range(10):
                if url.startswith(f"{diracx.idp_url}/authorize"):
                    url += "&" + urllib.parse.urlencode({"login_hint": username})
                r = c.get(url)
                if not r.is_redirect:
                    break
                url = str(r.url.join(r.headers["location"]))
        assert r.status_code == 200, r.text
        r = c.post(f"{diracx.url}/api/auth/token", data={
            "grant_type": DEVICE_GRANT, "device_code": flow["device_code"], "client_id": diracx.client_id})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def dx_tokens(real_diracx) -> dict[str, str]:
    """Access tokens of alice (group belle) and bob (group belle) from the device flow."""
    return {
        "alice": device_flow(real_diracx, "alice", None, via="login_hint")["access_token"],
        "bob": device_flow(real_diracx, "bob", None, via="next_user")["access_token"],
    }


def test_device_flow_as_alice_and_bob(real_diracx, dx_tokens):
    alice, bob = claims(dx_tokens["alice"]), claims(dx_tokens["bob"])
    assert alice["preferred_username"] == "alice" and bob["preferred_username"] == "bob"
    assert alice["vo"] == bob["vo"] == "belle"
    assert alice["dirac_group"] == bob["dirac_group"] == "belle"  # the VO's default group
    assert alice["dirac_properties"] == ["NormalUser"]
    assert alice["sub"] == "belle:" + real_diracx.users["alice"]["sub"]
    assert alice["sub"] != bob["sub"]
    r = httpx.get(f"{real_diracx.url}/api/auth/userinfo", headers={"Authorization": f"Bearer {dx_tokens['bob']}"})
    assert r.status_code == 200 and r.json()["preferred_username"] == "bob"


def test_device_flow_group_choice_and_helpers(real_diracx):
    tok = device_flow(real_diracx, "alice", "belle_jobadmin", via="next_user")
    c = claims(tok["access_token"])
    assert c["dirac_group"] == "belle_jobadmin"
    assert sorted(c["dirac_properties"]) == ["JobAdministrator", "NormalUser"]
    assert tok["refresh_token"] and tok["expires_in"] > 0
    # bob is not in belle_jobadmin: the browser step passes, the token request gets 403
    with pytest.raises(Exception, match="403.*not a member of the requested group"):
        real_diracx.login("bob", "belle_jobadmin")
    # the IdP session cookie picks the user too
    assert claims(device_flow(real_diracx, "bob", None, via="cookie")["access_token"])["preferred_username"] == "bob"
    # the fixture helpers give the same identities
    for via in ("cookie", "next_user", "login_hint"):
        assert claims(real_diracx.login("alice", via=via)["access_token"])["preferred_username"] == "alice"
    assert claims(real_diracx.login("bob")["access_token"])["preferred_username"] == "bob"
    assert claims(real_diracx.legacy_token("alice")["access_token"])["preferred_username"] == "alice"
    logins = httpx.get(f"{real_diracx.idp_url}/_logins").json()
    assert logins[-1]["username"] == "bob"


def make_sandbox(text: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tf:
        info = tarfile.TarInfo("steering.py")
        info.size = len(text)
        tf.addfile(info, io.BytesIO(text))
    return buf.getvalue()


@pytest.fixture(scope="module")
def alice_job(real_diracx, dx_tokens) -> dict:
    """Upload a sandbox to moto through DiracX's presigned POST and submit one JDL as alice."""
    auth = {"Authorization": f"Bearer {dx_tokens['alice']}"}
    sandbox = make_sandbox(b"import basf2\nprint('gb2 contract smoke')\n")
    body = {"checksum_algorithm": "sha256", "checksum": hashlib.sha256(sandbox).hexdigest(),
            "size": len(sandbox), "format": "tar.bz2"}
    with httpx.Client(timeout=30) as c:
        r = c.post(f"{real_diracx.url}/api/jobs/sandbox", json=body, headers=auth)
        assert r.status_code == 200, r.text
        up = r.json()
        assert up["url"].startswith(real_diracx.s3_url)  # presigned POST to moto
        s3 = c.post(up["url"], data=up["fields"], files={"file": ("file", sandbox)})
        assert s3.status_code in (200, 201, 204), s3.text
        pfn = up["pfn"]
        assert pfn.startswith("SB:SandboxSE|/S3/sandboxes/belle/belle/alice/")
        jdl = f"""[
            Executable = "basf2";
            Arguments = "steering.py";
            JobName = "gb2smoke_job";
            JobType = "User";
            JobGroup = "gb2smoke";
            InputSandbox = {{"{pfn}"}};
            OutputSandbox = {{"std.out", "std.err"}};
            StdOutput = "std.out";
            StdError = "std.err";
        ]"""
        r = c.post(f"{real_diracx.url}/api/jobs/jdl", json=[jdl], headers=auth)
        assert r.status_code in (200, 201), r.text
        (job,) = r.json()
        assert job["Status"] == "Received"
    return {"id": job["JobID"], "pfn": pfn, "sandbox": sandbox}


def test_submit_and_search(real_diracx, dx_tokens, alice_job):
    r = httpx.post(f"{real_diracx.url}/api/jobs/search", headers={"Authorization": f"Bearer {dx_tokens['alice']}"},
                   json={"parameters": ["JobID", "Owner", "OwnerGroup", "VO", "JobName", "JobGroup", "Status"],
                         "search": [{"parameter": "JobID", "operator": "eq", "value": alice_job["id"]}]})
    assert r.status_code in (200, 206), r.text
    (row,) = r.json()
    assert row == {"JobID": alice_job["id"], "Owner": "alice", "OwnerGroup": "belle", "VO": "belle",
                   "JobName": "gb2smoke_job", "JobGroup": "gb2smoke", "Status": "Received"}


def test_global_jobs_info(real_diracx, dx_tokens, alice_job):
    """GlobalJobsInfo is True (DIRAC's default): bob can *see* alice's job, and can be switched off."""
    search = {"parameters": ["JobID"], "search": [{"parameter": "JobID", "operator": "eq", "value": alice_job["id"]}]}
    bob = {"Authorization": f"Bearer {dx_tokens['bob']}"}
    r = httpx.post(f"{real_diracx.url}/api/jobs/search", headers=bob, json=search)
    assert r.status_code == 200 and r.json() == [{"JobID": alice_job["id"]}]
    real_diracx.set_global_jobs_info(False)
    try:
        r = httpx.post(f"{real_diracx.url}/api/jobs/search", headers=bob, json=search)
        assert r.status_code == 200 and r.json() == []
    finally:
        real_diracx.set_global_jobs_info(True)


def test_bob_cannot_change_alices_job(real_diracx, dx_tokens, alice_job):
    jid = str(alice_job["id"])
    update = {jid: {now(): {"Status": "Killed", "MinorStatus": "Marked for termination", "Source": "User"}}}
    r = httpx.patch(f"{real_diracx.url}/api/jobs/status", json=update,
                    headers={"Authorization": f"Bearer {dx_tokens['bob']}"})
    assert r.status_code == 403, r.text
    r = httpx.post(f"{real_diracx.url}/api/jobs/reschedule", json={"job_ids": [alice_job["id"]]},
                   headers={"Authorization": f"Bearer {dx_tokens['bob']}"})
    assert r.status_code == 403, r.text


def test_sandbox_download_and_ownership(real_diracx, dx_tokens, alice_job):
    r = httpx.get(f"{real_diracx.url}/api/jobs/sandbox", params={"pfn": alice_job["pfn"]},
                  headers={"Authorization": f"Bearer {dx_tokens['alice']}"})
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    assert url.startswith(real_diracx.s3_url)
    assert httpx.get(url).content == alice_job["sandbox"]
    # bob may neither download alice's sandbox nor list her job's sandboxes
    bob = {"Authorization": f"Bearer {dx_tokens['bob']}"}
    r = httpx.get(f"{real_diracx.url}/api/jobs/sandbox", params={"pfn": alice_job["pfn"]}, headers=bob)
    assert r.status_code == 403, r.text
    r = httpx.get(f"{real_diracx.url}/api/jobs/{alice_job['id']}/sandbox", headers=bob)
    assert r.status_code == 403, r.text


def test_owner_can_kill_own_job(real_diracx, dx_tokens, alice_job):
    jid = str(alice_job["id"])
    update = {jid: {now(): {"Status": "Killed", "MinorStatus": "Marked for termination", "Source": "User"}}}
    r = httpx.patch(f"{real_diracx.url}/api/jobs/status", json=update,
                    headers={"Authorization": f"Bearer {dx_tokens['alice']}"})
    assert r.status_code == 200, r.text
    assert jid in r.json()["success"]


# --------------------------------------------------------------------------- Rucio
@pytest.fixture(scope="module")
def rucio(real_rucio):
    """httpx clients per account, authenticated by userpass."""
    clients = {}
    for name in ("root", "alice", "bob"):
        acc = real_rucio.root if name == "root" else real_rucio.accounts[name]
        r = httpx.get(f"{real_rucio.url}/auth/userpass", headers={
            "X-Rucio-Account": acc.account, "X-Rucio-Username": acc.username, "X-Rucio-Password": acc.password})
        assert r.status_code == 200, r.text
        token = r.headers["X-Rucio-Auth-Token"]
        clients[name] = httpx.Client(base_url=real_rucio.url, timeout=30, headers={"X-Rucio-Auth-Token": token})
    yield clients
    for c in clients.values():
        c.close()


def test_rucio_userpass_and_setup(real_rucio, rucio):
    r = rucio["alice"].get("/accounts/whoami", follow_redirects=True)
    assert r.status_code == 200 and r.json()["account"] == "alice" and r.json()["account_type"] == "USER"
    bad = httpx.get(f"{real_rucio.url}/auth/userpass", headers={
        "X-Rucio-Account": "alice", "X-Rucio-Username": "alice", "X-Rucio-Password": "wrong"})
    assert bad.status_code == 401
    scopes = rucio["alice"].get("/scopes/").json()
    assert {"user.alice", "user.bob", "mc", "data", "other"} <= set(scopes)
    assert rucio["alice"].get("/accounts/alice/scopes/").json() == ["user.alice"]
    rses = [row["rse"] for row in ndjson(rucio["alice"].get("/rses/"))]
    assert sorted(rses) == sorted(real_rucio.rse_names)
    assert set(real_rucio.user_rses) == {"KEK-TMP-DISK-SE", "DESY-TMP-SE"}


@pytest.fixture(scope="module")
def alice_file(real_rucio, rucio) -> dict:
    """Container + dataset + one real file replica on KEK-TMP-DISK-SE, all as alice."""
    alice = rucio["alice"]
    rse = "KEK-TMP-DISK-SE"
    assert alice.post(f"/dids/user.alice/{q(USER_CONTAINER)}", json={"type": "CONTAINER"}).status_code == 201
    r = alice.post(f"/dids/user.alice/{q(USER_DATASET)}", json={"type": "DATASET"})
    assert r.status_code == 201, r.text
    r = alice.get(f"/rses/{rse}/lfns2pfns", params={"lfn": f"user.alice:{USER_FILE}", "scheme": "file"})
    assert r.status_code == 200, r.text
    pfn = r.json()[f"user.alice:{USER_FILE}"]
    path = Path(pfn.removeprefix("file://localhost"))
    assert path == real_rucio.prefix(rse) / USER_FILE.lstrip("/")  # Belle II layout: prefix + LFN
    content = b"".join(b"event %06d\n" % i for i in range(5000))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    adler = f"{zlib.adler32(content):08x}"
    r = alice.post("/replicas", json={"rse": rse, "files": [{
        "scope": "user.alice", "name": USER_FILE, "bytes": len(content), "adler32": adler,
        "md5": hashlib.md5(content).hexdigest(), "meta": {"events": 5000}}]})
    assert r.status_code == 201, r.text
    r = alice.post(f"/dids/user.alice/{q(USER_DATASET)}/dids",
                   json={"dids": [{"scope": "user.alice", "name": USER_FILE}], "rse": rse})
    assert r.status_code == 201, r.text
    r = alice.post(f"/dids/user.alice/{q(USER_CONTAINER)}/dids",
                   json={"dids": [{"scope": "user.alice", "name": USER_DATASET}]})
    assert r.status_code == 201, r.text
    return {"rse": rse, "pfn": pfn, "content": content, "adler32": adler}


def test_rucio_content(rucio, alice_file):
    alice = rucio["alice"]
    assert ndjson(alice.get(f"/dids/user.alice/{q(USER_CONTAINER)}/dids")) == [
        {"scope": "user.alice", "name": USER_DATASET, "type": "DATASET", "bytes": None, "adler32": None, "md5": None}]
    (f,) = ndjson(alice.get(f"/dids/user.alice/{q(USER_CONTAINER)}/files"))
    assert (f["scope"], f["name"], f["bytes"], f["adler32"], f["events"]) == (
        "user.alice", USER_FILE, len(alice_file["content"]), alice_file["adler32"], 5000)
    # the raw (unencoded) form of the path works too
    r = alice.get(f"/dids/user.alice/{USER_DATASET}")
    assert r.status_code == 200 and r.json()["name"] == USER_DATASET and r.json()["account"] == "alice"


def test_rucio_json_metadata(rucio, alice_file):
    alice = rucio["alice"]
    meta = {"data_type": "mdst", "campaign_name": "gb2smoke", "experiment": 1003, "beam_energy": "4S"}
    r = alice.post(f"/dids/user.alice/{q(USER_DATASET)}/meta", json={"meta": meta})
    assert r.status_code == 201, r.text
    assert alice.get(f"/dids/user.alice/{q(USER_DATASET)}/meta", params={"plugin": "JSON"}).json() == meta
    filters = repr([{"data_type": "mdst", "experiment.gte": 1000, "campaign_name": "gb2*"}])
    r = alice.get("/dids/user.alice/dids/search", params={"type": "dataset", "filters": filters})
    assert r.status_code == 200, r.text
    assert ndjson(r) == [USER_DATASET]
    r = alice.get("/dids/user.alice/dids/search", params={"type": "dataset", "filters": repr([{"experiment": 987654}])})
    assert ndjson(r) == []


def test_rucio_replicas_and_read(rucio, alice_file):
    r = rucio["alice"].post("/replicas/list", headers={"Accept": NDJSON}, json={
        "dids": [{"scope": "user.alice", "name": USER_CONTAINER}], "schemes": ["file"], "sort": "random"})
    assert r.status_code == 200, r.text
    (rep,) = ndjson(r)
    assert rep["name"] == USER_FILE and rep["states"] == {alice_file["rse"]: "AVAILABLE"}
    (pfn,) = rep["rses"][alice_file["rse"]]
    assert pfn == alice_file["pfn"] and pfn.startswith("file://localhost/")
    data = Path(urllib.parse.urlsplit(pfn).path).read_bytes()
    assert f"{zlib.adler32(data):08x}" == rep["adler32"] == alice_file["adler32"]


def test_rucio_bob_refused_in_alices_scope(rucio, alice_file):
    bob = rucio["bob"]
    r = bob.post(f"/dids/user.alice/{q(USER_CONTAINER + '/bobs')}", json={"type": "DATASET"})
    assert r.status_code == 401 and r.json()["ExceptionClass"] == "AccessDenied", r.text
    # Rucio 41.5.1 quirk: the meta routes do not map AccessDenied to 401, so the refusal
    # arrives as HTTP 500 with ExceptionClass AccessDenied (body and header)
    r = bob.post(f"/dids/user.alice/{q(USER_DATASET)}/meta", json={"meta": {"data_type": "hacked"}})
    assert r.status_code == 500 and r.headers["ExceptionClass"] == "AccessDenied", r.text
    r = bob.post(f"/dids/user.alice/{q(USER_DATASET)}/meta/data_type", json={"value": "hacked"})
    assert r.status_code == 500 and r.json()["ExceptionClass"] == "AccessDenied", r.text
    r = bob.post("/replicas", json={"rse": "DESY-TMP-SE", "files": [{
        "scope": "user.alice", "name": f"{USER_DATASET}/bob.root", "bytes": 1, "adler32": "00000001"}]})
    assert r.status_code == 401, r.text
    # ... while his own scope works, but not attaching his DIDs to alice's
    r = bob.post(f"/dids/user.bob/{q('/belle/user/bob/gb2smoke')}", json={"type": "CONTAINER"})
    assert r.status_code == 201, r.text
    r = bob.post(f"/dids/user.alice/{q(USER_CONTAINER)}/dids",
                 json={"dids": [{"scope": "user.bob", "name": "/belle/user/bob/gb2smoke"}]})
    assert r.status_code == 401 and r.json()["ExceptionClass"] == "AccessDenied", r.text


def test_rucio_scopes_derived_belle_style(real_rucio, rucio):
    """POST /dirac/addfiles derives scopes from LFNs with the Belle II rule and builds the tree."""
    lfn = "/belle/user/alice/gb2smoke_dirac/sub00/f_00001.root"
    content = b"dirac registration\n"
    prefix = real_rucio.prefix("DESY-TMP-SE")
    (prefix / lfn.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (prefix / lfn.lstrip("/")).write_bytes(content)
    r = rucio["alice"].post("/dirac/addfiles", json={"lfns": [{
        "lfn": lfn, "rse": "DESY-TMP-SE", "bytes": len(content), "adler32": f"{zlib.adler32(content):08x}"}]})
    assert r.status_code == 201, r.text
    parents = ndjson(rucio["alice"].get(f"/dids/user.alice/{q(lfn)}/parents"))
    assert parents == [{"scope": "user.alice", "name": "/belle/user/alice/gb2smoke_dirac/sub00", "type": "DATASET"}]
    top = [d["name"] for d in ndjson(rucio["alice"].get(f"/dids/other/{q('/belle/user')}/dids"))]
    assert "/belle/user/alice" in top
    # official MC: scope mc, owned by root, on DATA storage where users may not write
    mc_file = f"{MC_DATASET}/mdst_000001_prod00024821_task10020000001.root"
    r = rucio["alice"].post("/dirac/addfiles", json={"lfns": [{"lfn": mc_file, "rse": "KEK-DATA-SE", "bytes": 1,
                                                               "adler32": "00000001"}]})
    assert r.status_code == 401, r.text
    r = rucio["root"].post("/dirac/addfiles", json={"lfns": [{"lfn": mc_file, "rse": "KEK-DATA-SE", "bytes": 1,
                                                              "adler32": "00000001"}]})
    assert r.status_code == 201, r.text
    r = rucio["alice"].get(f"/dids/mc/{q(MC_DATASET)}")
    assert r.status_code == 200 and r.json()["type"] == "DATASET" and r.json()["account"] == "root"
