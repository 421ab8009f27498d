"""The DiracX client against the embedded server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import stat
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gb2.client.diracx import DiracX
from gb2.client.tokens import TokenStore
from gb2.errors import (
    AuthError,
    Forbidden,
    NotLoggedIn,
    RequestRefused,
    ServerUnreachable,
    TokenExpired,
)
from gb2.jobs.sandbox import extract_archive, make_archive
from gb2.jobs.submit import Submitter, published_batch_size
from gb2.server.settings import User
from tests.helpers import browser_approval, jdl, login


@pytest.fixture
def alice(server, tmp_path) -> DiracX:
    return login(server, "alice", tmp_path)


@pytest.fixture
def bob(server, tmp_path) -> DiracX:
    return login(server, "bob", tmp_path)


def job_row(dx: DiracX, job_id: int, *params: str) -> dict:
    rows = dx.search(["JobID", *params], [{"parameter": "JobID", "operator": "eq", "value": job_id}]).rows
    assert len(rows) == 1
    return rows[0]


# -- login and tokens ---------------------------------------------------------------


def test_device_login_caches_private_tokens(alice: DiracX):
    info = alice.userinfo()
    assert info["preferred_username"] == "alice"
    assert info["vo"] == "belle" and info["dirac_group"] == "belle"
    assert info["properties"] == ["NormalUser"]
    path = alice.tokens.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    claims = alice.token_claims()
    for key in ("sub", "vo", "dirac_group", "preferred_username", "dirac_properties", "jti", "exp", "iss"):
        assert key in claims
    assert jwt.get_unverified_header(alice.access_token())["alg"] == "Ed25519"


def test_device_flow_is_pending_until_approved(server, tmp_path):
    dx = DiracX(server.url, TokenStore(tmp_path / "t.json"))
    flow = dx.start_device_flow("vo:belle group:belle")
    r = httpx.post(
        f"{server.url}/api/auth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
              "device_code": flow["device_code"], "client_id": "myDIRACClientID"},
    )  # fmt: skip
    assert r.status_code == 400 and r.json() == {"error": "authorization_pending"}
    browser_approval(server, "bob")(flow)
    tokens = dx.poll_device_flow(flow, interval=0.05)
    assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["preferred_username"] == "bob"


def test_group_scope_gives_group_properties(server, tmp_path):
    admin = login(server, "alice", tmp_path, group="belle_jobadmin")
    assert set(admin.userinfo()["properties"]) == {"NormalUser", "JobAdministrator"}
    with pytest.raises(Forbidden) as refused:  # the IdP refuses at the browser step
        login(server, "bob", tmp_path, group="belle_jobadmin")
    assert refused.value.status_code == 403
    assert "bob is not a member of group belle_jobadmin" in str(refused.value)


def test_not_logged_in(server, tmp_path):
    dx = DiracX(server.url, TokenStore(tmp_path / "none.json"))
    with pytest.raises(NotLoggedIn):
        dx.search()


def test_forged_tampered_and_expired_tokens_get_401(server):
    forged = jwt.encode(
        {"sub": "belle:x", "vo": "belle", "dirac_group": "belle", "preferred_username": "alice",
         "dirac_properties": ["NormalUser"], "jti": "1", "exp": int(time.time()) + 600},
        Ed25519PrivateKey.generate(), algorithm="EdDSA",
    )  # fmt: skip
    with pytest.raises(AuthError, match="Invalid JWT"):
        DiracX(server.url, access_token=forged).search()
    user = server.settings.user("alice")
    good, _ = server.state.authority.mint_access_token(user, "belle")
    header, payload, signature = good.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["preferred_username"] = "bob"
    tampered = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])
    with pytest.raises(AuthError):
        DiracX(server.url, access_token=tampered).search()
    expired, _ = server.state.authority.mint_access_token(user, "belle", minutes=-1)
    with pytest.raises(TokenExpired):
        DiracX(server.url, access_token=expired).search()
    r = httpx.post(f"{server.url}/api/jobs/search", json={})
    assert r.status_code == 401 and r.json() == {"detail": "Authorization header is missing"}


def test_expired_access_token_is_refreshed_transparently(alice: DiracX):
    data = alice.tokens.load()
    data["expires_at"] = time.time() - 5
    alice.tokens.save({"access_token": data["access_token"], "refresh_token": data["refresh_token"]})
    cached = alice.tokens.load()
    cached["expires_at"] = time.time() - 5
    alice._cached = cached
    before = cached["access_token"]
    alice.search()
    assert alice.access_token() != before
    assert alice.tokens.load()["access_token"] == alice.access_token()


def test_refresh_token_reuse_revokes_the_login(server, alice: DiracX):
    old_refresh = alice.tokens.load()["refresh_token"]
    alice.refresh()
    r = httpx.post(
        f"{server.url}/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": "myDIRACClientID"},
    )
    assert r.status_code == 401
    assert "potential attack" in r.json()["detail"]
    with pytest.raises(TokenExpired):
        alice.refresh()


def test_revoke(server, alice: DiracX):
    refresh = alice.tokens.load()["refresh_token"]
    assert alice.revoke()
    r = httpx.post(
        f"{server.url}/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "myDIRACClientID"},
    )
    assert r.status_code == 401


# -- submission and search -------------------------------------------------------------


def test_submit_single_bulk_and_parametric(alice: DiracX):
    single = alice.submit_jdl([jdl("one")])
    assert single[0]["Status"] == "Received" and single[0]["MinorStatus"] == "Job accepted"
    bulk = alice.submit_jdl([jdl("a"), jdl("b"), jdl("c")])
    assert [j["JobID"] for j in bulk] == [single[0]["JobID"] + i for i in (1, 2, 3)]
    param = alice.submit_jdl(['[Executable="/bin/echo"; Arguments="%s"; Parameters={"x","y"}; JobName="p_%n"; JobGroup="g"]'])
    assert [j["Status"] for j in param] == ["Submitting", "Submitting"]
    assert [j["MinorStatus"] for j in param] == ["Bulk transaction confirmation"] * 2
    names = {r["JobName"] for r in alice.iter_search(["JobName"], [{"parameter": "JobGroup", "operator": "eq", "value": "g"}])}
    assert names == {"p_0", "p_1"}
    row = job_row(alice, bulk[0]["JobID"], "Owner", "OwnerGroup", "VO", "JobGroup", "Site", "UserPriority")
    assert row == {"JobID": bulk[0]["JobID"], "Owner": "alice", "OwnerGroup": "belle", "VO": "belle",
                   "JobGroup": "proj", "Site": "ANY", "UserPriority": 1}  # fmt: skip


@pytest.mark.parametrize(
    "jdls, message",
    [
        (["this is not jdl"], "JDL syntax error"),
        ([jdl(f"j{i}") for i in range(1001)], "cannot submit more than 1000 jobs"),  # this grid's published limit
        ([jdl("a", Site="LCG.KEK.jp"), jdl("b")], "JDL syntax error"),  # DiracX 0.7: heterogeneous bulk
        (['[Executable="x"; Parameters={"a"}]', jdl("b")], "parametric jobs in a bulk fashion"),
    ],
)
def test_submission_refusals(alice: DiracX, jdls, message):
    with pytest.raises(RequestRefused, match=message):
        alice.submit_jdl(jdls)
    assert alice.search().total == 0


def test_search_pages_with_content_range(server, alice: DiracX):
    for start in range(0, 45, 15):
        alice.submit_jdl([jdl(f"n{i:02d}") for i in range(start, start + 15)])
    r = httpx.post(
        f"{server.url}/api/jobs/search", params={"page": 2, "per_page": 20},
        json={"parameters": ["JobID"]}, headers={"Authorization": f"Bearer {alice.access_token()}"},
    )  # fmt: skip
    assert r.status_code == 206 and r.headers["content-range"] == "jobs 20-39/45"
    page = alice.search(["JobID"], page=3, per_page=20)
    assert (page.first, page.last, page.total, len(page.rows)) == (40, 44, 45, 5)
    beyond = alice.search(["JobID"], page=9, per_page=20)
    assert beyond.rows == [] and beyond.total == 45
    everything = list(alice.iter_search(["JobID", "JobName"], per_page=7))
    assert [r["JobName"] for r in everything] == [f"n{i:02d}" for i in range(45)]
    desc = alice.search(["JobName"], sort=[{"parameter": "JobName", "direction": "desc"}], per_page=3).rows
    assert [r["JobName"] for r in desc] == ["n44", "n43", "n42"]
    like = alice.search(["JobName"], [{"parameter": "JobName", "operator": "like", "value": "n1%"}], per_page=100)
    assert like.total == 10
    with pytest.raises(RequestRefused, match="Unrecognised parameters"):
        alice.search(["NoSuchColumn"])


def test_search_rows_have_diracx_types_whichever_way_the_page_is_built(alice: DiracX):
    # A page is written as JSON by SQLite, except with LoggingInfo (built row by row): both the same.
    alice.submit_jdl([jdl("grüße-1"), jdl("plain-2")])
    rows = alice.search(sort=[{"parameter": "JobID", "direction": "asc"}]).rows
    assert [r["JobName"] for r in rows] == ["grüße-1", "plain-2"]
    for r in rows:
        assert isinstance(r["JobID"], int) and isinstance(r["UserPriority"], int)
        assert r["VerifiedFlag"] is True and r["AccountedFlag"] is False
        assert isinstance(r["SubmissionTime"], str) and r["EndExecTime"] is None
    with_history = alice.search([*rows[0], "LoggingInfo"], sort=[{"parameter": "JobID", "direction": "asc"}]).rows
    assert [{k: v for k, v in r.items() if k != "LoggingInfo"} for r in with_history] == rows
    distinct = alice.search(["Status", "VerifiedFlag"], distinct=True).rows
    assert distinct == [{"Status": "Received", "VerifiedFlag": True}]


def test_summary_groups_on_the_server(alice: DiracX):
    ids = [j["JobID"] for j in alice.submit_jdl([jdl(f"s{i}") for i in range(5)])]
    alice.kill(ids[:2])
    summary = alice.summary(["Status", "MinorStatus"])
    assert sorted((s["Status"], s["count"]) for s in summary) == [("Killed", 2), ("Received", 3)]


# -- status changes -----------------------------------------------------------------------


def test_state_machine_stays_put_on_illegal_transitions(server, tmp_path, alice: DiracX):
    job = alice.submit_jdl([jdl()])[0]["JobID"]
    result = alice.set_job_status([job], status="Running", minor="Application", source="JobWrapper")
    assert result["success"][str(job)]["Status"] == "Received"  # DIRAC's rule: stay where you are
    assert job_row(alice, job, "Status", "MinorStatus") == {"JobID": job, "Status": "Received", "MinorStatus": "Application"}
    for status in ("Checking", "Waiting", "Matched", "Running", "Completing", "Done"):
        alice.set_job_status([job], status=status, source="JobWrapper")
    row = job_row(alice, job, "Status", "StartExecTime", "EndExecTime", "LoggingInfo")
    assert row["Status"] == "Done" and row["StartExecTime"] and row["EndExecTime"]
    assert [h["Status"] for h in row["LoggingInfo"]][-3:] == ["Running", "Completing", "Done"]
    with pytest.raises(Forbidden):
        alice.set_job_status([job], status="Running", force=True)
    admin = login(server, "alice", tmp_path, group="belle_jobadmin")
    admin.set_job_status([job], status="Running", force=True)
    assert job_row(alice, job, "Status")["Status"] == "Running"


def test_kill_and_delete(alice: DiracX):
    a, b = (j["JobID"] for j in alice.submit_jdl([jdl("a"), jdl("b")]))
    alice.kill([a])
    assert job_row(alice, a, "Status")["Status"] == "Killed"
    alice.delete([a, b])
    assert job_row(alice, a, "Status")["Status"] == "Deleted"
    assert job_row(alice, b, "Status")["Status"] == "Deleted"


def test_reschedule_counts_and_limits(server, alice: DiracX):
    job = alice.submit_jdl([jdl()])[0]["JobID"]
    for step in ("Checking", "Waiting", "Matched", "Running", "Failed"):
        alice.set_job_status([job], status=step, source="JobWrapper")
    for n in (1, 2, 3):
        result = alice.reschedule([job])
        assert result["success"][str(job)]["RescheduleCounter"] == n
        row = job_row(alice, job, "Status", "MinorStatus", "RescheduleCounter")
        assert row == {"JobID": job, "Status": "Received", "MinorStatus": "Job Rescheduled", "RescheduleCounter": n}
    result = alice.reschedule([job])
    assert "Maximum number of reschedules exceeded" in result["failed"][str(job)]["detail"]
    assert job_row(alice, job, "Status", "MinorStatus") == {
        "JobID": job, "Status": "Failed", "MinorStatus": "Maximum of reschedulings reached"}  # fmt: skip


def test_heartbeat_returns_kill_command(alice: DiracX):
    job = alice.submit_jdl([jdl()])[0]["JobID"]
    for step in ("Checking", "Waiting", "Matched"):
        alice.set_job_status([job], status=step, source="JobWrapper")
    assert alice.heartbeat({job: {"LoadAverage": 0.5, "MemoryUsed": 12.0}}) == []
    assert job_row(alice, job, "Status")["Status"] == "Running"  # a heartbeat revives Matched
    alice.kill([job])
    assert alice.heartbeat({job: {"LoadAverage": 0.5}}) == [{"job_id": job, "command": "Kill", "arguments": ""}]
    assert alice.heartbeat({job: {}}) == []


# -- sandboxes ------------------------------------------------------------------------------


def test_sandbox_round_trip(server, alice: DiracX, tmp_path):
    (tmp_path / "steer.py").write_text("print('hello')\n")
    (tmp_path / "aliases.txt").write_bytes(os.urandom(5000))
    archive = make_archive([(tmp_path / "steer.py", "steer.py"), (tmp_path / "aliases.txt", "aliases.txt")])
    assert archive == make_archive([(tmp_path / "aliases.txt", "aliases.txt"), (tmp_path / "steer.py", "steer.py")])
    pfn = alice.upload_sandbox(archive)
    assert pfn.startswith("SB:SandboxSE|/S3/sandboxes/belle/belle/alice/sha256:")
    grant = httpx.post(
        f"{server.url}/api/jobs/sandbox",
        json={"checksum_algorithm": "sha256", "checksum": pfn.split("sha256:")[1].split(".")[0],
              "size": len(archive), "format": "tar.bz2"},
        headers={"Authorization": f"Bearer {alice.access_token()}"},
    ).json()  # fmt: skip
    assert grant == {"pfn": pfn, "url": None, "fields": {}}  # deduplicated
    data = alice.download_sandbox(pfn)
    assert data == archive
    out = tmp_path / "out"
    assert sorted(extract_archive(data, out)) == ["aliases.txt", "steer.py"]
    assert (out / "aliases.txt").read_bytes() == (tmp_path / "aliases.txt").read_bytes()
    job = alice.submit_jdl([jdl()])[0]["JobID"]
    alice.assign_output_sandbox(job, pfn)
    assert alice.job_sandboxes(job) == {"Input": [], "Output": [pfn.split("|", 1)[1]]}
    assert alice.job_sandbox(job, "output") == [pfn.split("|", 1)[1]]


def test_presigned_upload_checks_signature_and_checksum(server, alice: DiracX):
    body = b"x" * 100
    import hashlib

    grant = httpx.post(
        f"{server.url}/api/jobs/sandbox",
        json={"checksum_algorithm": "sha256", "checksum": hashlib.sha256(body).hexdigest(), "size": 100, "format": "tar.bz2"},
        headers={"Authorization": f"Bearer {alice.access_token()}"},
    ).json()
    fields = dict(grant["fields"])
    r = httpx.post(grant["url"], data=fields, files={"file": ("file", b"y" * 100)})
    assert r.status_code == 400 and "BadDigest" in r.text
    fields["x-amz-signature"] = "0" * 64
    assert httpx.post(grant["url"], data=fields, files={"file": ("file", body)}).status_code == 403
    assert httpx.post(grant["url"], data=grant["fields"], files={"file": ("file", body)}).status_code == 204


# -- ownership ----------------------------------------------------------------------------


def test_users_cannot_touch_each_others_jobs_and_sandboxes(alice: DiracX, bob: DiracX, tmp_path):
    job = alice.submit_jdl([jdl()])[0]["JobID"]
    (tmp_path / "f").write_text("secret")
    pfn = alice.upload_sandbox(make_archive([(tmp_path / "f", "f")]))
    alice.assign_output_sandbox(job, pfn)
    for action in (
        lambda: bob.kill([job]),
        lambda: bob.set_job_status([job], minor="hijacked"),
        lambda: bob.reschedule([job]),
        lambda: bob.heartbeat({job: {}}),
        lambda: bob.job_sandboxes(job),
        lambda: bob.assign_output_sandbox(job, pfn),
    ):
        with pytest.raises(Forbidden):
            action()
    with pytest.raises(Forbidden, match="PFN must start with /S3/sandboxes/belle/belle/bob/"):
        bob.download_sandbox(pfn)
    assert job_row(alice, job, "Status", "MinorStatus") == {"JobID": job, "Status": "Received", "MinorStatus": "Job accepted"}
    # DIRAC's GlobalJobsInfo (on by default): users may *see* the VO's jobs, not act on them.
    assert bob.search(["JobID", "Owner"]).rows == [{"JobID": job, "Owner": "alice"}]


# -- retries and lost responses ----------------------------------------------------------------


class FlakyTransport(httpx.HTTPTransport):
    """A real transport that misbehaves on chosen requests (a named test double).

    ``lose``: forward the request to the server, then drop its response (a lost
    reply); ``unavailable``: answer 503 without forwarding.
    """

    def __init__(self, lose: dict[str, int] | None = None, unavailable: dict[str, int] | None = None) -> None:
        super().__init__()
        self.lose = dict(lose or {})
        self.unavailable = dict(unavailable or {})
        self.seen: dict[str, int] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.path}"
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.unavailable.get(key, 0) > 0:
            self.unavailable[key] -= 1
            return httpx.Response(503, json={"detail": "try later"}, request=request)
        response = super().handle_request(request)
        if self.lose.get(key, 0) > 0:
            self.lose[key] -= 1
            response.read()
            response.close()
            raise httpx.ReadTimeout("response lost (test double)", request=request)
        return response


def test_lost_submission_responses_create_no_duplicates(server, alice: DiracX, tmp_path):
    transport = FlakyTransport(lose={"POST /api/jobs/jdl": 3})
    flaky = DiracX(server.url, alice.tokens, client=httpx.Client(transport=transport))
    names = [f"proj_{i:05d}" for i in range(50)]
    jdls = [jdl(n, group="lossy") for n in names]
    result = Submitter(flaky, "alice", "lossy", parallel=1, batch_size=20).submit(jdls, names)
    assert result.reconciled_batches == 3
    rows = list(alice.iter_search(["JobID", "JobName"], [{"parameter": "JobGroup", "operator": "eq", "value": "lossy"}]))
    assert len(rows) == 50
    assert sorted(r["JobName"] for r in rows) == names
    assert result.job_ids == [r["JobID"] for r in sorted(rows, key=lambda r: r["JobName"])]
    assert transport.seen["POST /api/jobs/jdl"] == 3  # lost batches were found, not resubmitted


def test_submission_batches_are_as_big_as_the_server_publishes(server_factory, tmp_path):
    """The embedded grid publishes how many jobs one call may carry (DiracX 0.7 takes 20 and
    publishes nothing; see the contract test); the submitter sends batches of that size."""
    srv = server_factory(max_jobs_per_submission=30)
    alice = login(srv, "alice", tmp_path)
    assert published_batch_size(alice) == 30
    transport = FlakyTransport()
    counting = DiracX(srv.url, alice.tokens, client=httpx.Client(transport=transport))
    names = [f"pub_{i:05d}" for i in range(70)]
    result = Submitter(counting, "alice", "pub").submit([jdl(n, group="pub") for n in names], names)
    assert len(result.job_ids) == 70 and transport.seen["POST /api/jobs/jdl"] == 3
    assert published_batch_size(login(server_factory(), "alice", tmp_path)) == 1000  # the default


def test_duplicates_from_a_race_are_removed(alice: DiracX):
    names = ["r_00000", "r_00001"]
    first = [j["JobID"] for j in alice.submit_jdl([jdl(n, group="race") for n in names])]
    alice.submit_jdl([jdl(n, group="race") for n in names])  # a retry that raced the first insert
    removed = Submitter(alice, "alice", "race").remove_duplicates(names, first)
    assert len(removed) == 2 and set(removed).isdisjoint(first)
    live = alice.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": "race"},
                                    {"parameter": "Status", "operator": "neq", "value": "Deleted"}])  # fmt: skip
    assert sorted(r["JobID"] for r in live.rows) == first


def test_503_is_retried_for_every_call_a_lost_answer_only_for_idempotent_ones(server, alice: DiracX):
    job = alice.submit_jdl([jdl()])[0]["JobID"]
    alice.kill([job])
    transport = FlakyTransport(unavailable={"POST /api/jobs/search": 2, "POST /api/jobs/reschedule": 1},
                               lose={"POST /api/jobs/summary": 1, "POST /api/jobs/reschedule": 1})  # fmt: skip
    flaky = DiracX(server.url, alice.tokens, client=httpx.Client(transport=transport))
    assert flaky.search(["JobID"]).rows == [{"JobID": job}]
    assert transport.seen["POST /api/jobs/search"] == 3
    assert flaky.summary(["Status"]) == [{"Status": "Killed", "count": 1}]  # a read-only POST: asked again
    assert transport.seen["POST /api/jobs/summary"] == 2
    # reschedule: the 503 (not processed) is retried; the lost answer is not (the server acted)
    with pytest.raises(ServerUnreachable, match="did not answer in time"):
        flaky.reschedule([job])
    assert transport.seen["POST /api/jobs/reschedule"] == 2
    assert job_row(alice, job, "RescheduleCounter")["RescheduleCounter"] == 1


def test_unreachable_server_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dx = DiracX(f"http://127.0.0.1:{port}", access_token="x.y.z")
    started = time.monotonic()
    with pytest.raises(ServerUnreachable, match=f"cannot reach DiracX at http://127.0.0.1:{port}"):
        dx.search()
    assert time.monotonic() - started < 5


def test_extra_users_from_settings(server_factory, tmp_path):
    srv = server_factory(users=[User("carol")])
    dx = login(srv, "carol", tmp_path)
    assert dx.userinfo()["preferred_username"] == "carol"


def test_job_ids_beyond_64_bits_are_refused_with_400(server, alice: DiracX):
    """The job database keeps 64-bit ids: a bigger one is the request's fault (400), not a server error."""
    headers = {"Authorization": f"Bearer {alice.access_token()}"}
    body = {"parameters": ["JobID"], "search": [{"parameter": "JobID", "operator": "in", "values": [2**64]}]}
    r = httpx.post(f"{server.url}/api/jobs/search", json=body, headers=headers)
    assert r.status_code == 400 and "out of range" in r.json()["detail"]
    r = httpx.post(f"{server.url}/api/jobs/summary", json={"grouping": ["Status"], "search": body["search"]},
                   headers=headers)  # fmt: skip
    assert r.status_code == 400


def test_config_route_publishes_the_embedded_grids_releases(server, alice: DiracX):
    """``GET /api/config/`` as DiracX serves it: a token is needed, an ETag is given, and the
    embedded grid's basf2 releases sit at Operations/<vo>/SoftwareReleases/basf2."""
    assert httpx.get(f"{server.url}/api/config/").status_code == 401
    config = alice.config()
    releases = config["Operations"]["belle"]["SoftwareReleases"]["basf2"]
    assert "light-2511-gacrux" in releases and "release-06-00-08" in releases
    headers = {"Authorization": f"Bearer {alice.access_token()}"}
    first = httpx.get(f"{server.url}/api/config/", headers=headers)
    again = httpx.get(f"{server.url}/api/config/", headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_bulk_submission_reads_each_jdl_as_alone(alice: DiracX):
    """A bulk submission parses its JDLs together (lines shared between jobs are read once):
    each job must still get what its own text says (the server's columns come from the
    parsed attributes), escapes, nested ads and attributes spread over lines included."""
    head = '[\n    Executable = "/bin/echo";\n    JobGroup = "bulkparse";\n    Extra = [ K = "v"; L = {1, 2}; ];\n'
    texts = [
        head + '    JobName = "b0 \\\\ \\"q\\"";\n    Site = {"LCG.KEK.jp"};\n]',
        head + '    JobName = "b1";\n    Site = {"LCG.KEK.jp",\n        "LCG.DESY.de"};\n    // a comment\n]',
        '[\n    Executable = "/bin/echo"; JobGroup = "bulkparse";\n    JobName = "b2"; Site = "ANY";\n]',
        head + '    JobName = "b0 \\\\ \\"q\\"";\n    Site = {"LCG.KEK.jp"};\n]',
    ]
    ids = [int(j["JobID"]) for j in alice.submit_jdl(texts)]
    rows = {int(r["JobID"]): (r["JobName"], r["Site"]) for r in alice.iter_search(
        ["JobID", "JobName", "Site"], [{"parameter": "JobGroup", "operator": "eq", "value": "bulkparse"}])}  # fmt: skip
    assert [rows[i] for i in ids] == [('b0 \\ "q"', "LCG.KEK.jp"), ("b1", "Multiple"), ("b2", "ANY"),
                                      ('b0 \\ "q"', "LCG.KEK.jp")]  # fmt: skip
