"""The DiracX contract: gb2's DiracX client against the embedded server and a real DiracX 0.7.0.

The same body runs on both targets (the ``dx`` fixture). Where real DiracX 0.7.0
behaves differently because of a bug in it, the test says so with ``dx.real``.
"""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gb2.client.diracx import DiracX
from gb2.errors import AuthError, Forbidden, RequestRefused, TokenExpired
from gb2.jobs import jdl
from gb2.jobs.sandbox import extract_archive, make_archive
from gb2.jobs.submit import Submitter, published_batch_size
from tests.contract.targets import run_id

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def job_jdl(name: str, group: str, **extra) -> str:
    return jdl.dumps({"Executable": "/bin/echo", "Arguments": "hi", "JobName": name, "JobGroup": group,
                      "JobType": "User", **extra})  # fmt: skip


def rows(client: DiracX, group: str, *params: str) -> list[dict]:
    return list(client.iter_search(["JobID", *params], [{"parameter": "JobGroup", "operator": "eq", "value": group}]))


def row(client: DiracX, job_id: int, *params: str) -> dict:
    found = client.search(["JobID", *params], [{"parameter": "JobID", "operator": "eq", "value": job_id}]).rows
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def alice(dx) -> DiracX:
    return dx.login("alice")


@pytest.fixture(scope="module")
def bob(dx) -> DiracX:
    return dx.login("bob")


# -- login, refresh, revoke -----------------------------------------------------------


def test_device_flow_login_and_claims(dx, alice):
    info = alice.userinfo()
    assert info["preferred_username"] == "alice" and info["vo"] == "belle" and info["dirac_group"] == "belle"
    assert info["properties"] == ["NormalUser"]
    claims = alice.token_claims()
    for key in ("sub", "vo", "dirac_group", "preferred_username", "dirac_properties", "jti", "exp", "iss"):
        assert key in claims, key
    assert claims["sub"].startswith("belle:")
    assert jwt.get_unverified_header(alice.access_token())["alg"] == "Ed25519"
    admin = dx.login("alice", group="belle_jobadmin")
    assert set(admin.userinfo()["properties"]) == {"NormalUser", "JobAdministrator"}


def test_pending_until_approved(dx):
    client = DiracX(dx.url)
    flow = client.start_device_flow("vo:belle group:belle")
    r = httpx.post(f"{dx.url}/api/auth/token",
                   data={"grant_type": DEVICE_GRANT, "device_code": flow["device_code"], "client_id": "myDIRACClientID"})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending"
    dx.browser("bob")(flow)
    tokens = client.poll_device_flow(flow, interval=0.1)
    assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["preferred_username"] == "bob"


def test_refresh_and_revoke(dx):
    client = dx.login("alice")
    before = client.access_token()
    client.refresh()
    assert client.access_token() != before
    refresh_token = client.tokens.load()["refresh_token"]
    assert client.revoke()
    r = httpx.post(f"{dx.url}/api/auth/token",
                   data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "myDIRACClientID"})  # fmt: skip
    assert r.status_code == 401
    with pytest.raises(TokenExpired):
        client.refresh()


def test_forged_and_missing_tokens(dx):
    forged = jwt.encode({"sub": "belle:x", "vo": "belle", "dirac_group": "belle", "preferred_username": "alice",
                         "dirac_properties": ["NormalUser"], "jti": "1", "exp": int(time.time()) + 600},
                        Ed25519PrivateKey.generate(), algorithm="EdDSA")  # fmt: skip
    with pytest.raises(AuthError):
        DiracX(dx.url, access_token=forged).search()
    r = httpx.post(f"{dx.url}/api/jobs/search", json={})
    assert r.status_code == 401 and r.json() == {"detail": "Authorization header is missing"}


# -- submission and search ---------------------------------------------------------------


def test_single_bulk_and_parametric_submission(alice):
    group = f"sub{run_id()}"
    single = alice.submit_jdl([job_jdl("one", group)])
    assert (single[0]["Status"], single[0]["MinorStatus"]) == ("Received", "Job accepted")
    bulk = alice.submit_jdl([job_jdl(f"b{i}", group) for i in range(3)])
    assert len(bulk) == 3 and all(j["Status"] == "Received" for j in bulk)
    param = alice.submit_jdl([f'[Executable="/bin/echo"; Arguments="%s"; Parameters={{"x","y"}}; JobName="p_%n"; JobGroup="{group}"; JobType="User"]'])
    assert [(j["Status"], j["MinorStatus"]) for j in param] == [("Submitting", "Bulk transaction confirmation")] * 2
    found = rows(alice, group, "JobName", "Owner", "OwnerGroup", "VO", "Site", "UserPriority")
    assert sorted(r["JobName"] for r in found) == ["b0", "b1", "b2", "one", "p_0", "p_1"]
    assert {(r["Owner"], r["OwnerGroup"], r["VO"], r["Site"]) for r in found} == {("alice", "belle", "belle", "ANY")}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda g: ["this is not jdl"], "JDL syntax error"),
        (lambda g: [job_jdl("a", g, Site="LCG.KEK.jp"), job_jdl("b", g)], "JDL syntax error"),  # 0.7 bulk quirk
    ],
    ids=["not JDL", "bulk with different attributes"],
)
def test_submission_refusals(alice, make, message):
    group = f"bad{run_id()}"
    with pytest.raises(RequestRefused, match=message):
        alice.submit_jdl(make(group))
    assert rows(alice, group) == []


def test_more_than_twenty_jobs_in_one_call_is_refused(alice):
    group = f"many{run_id()}"
    with pytest.raises(RequestRefused, match="cannot submit more than 20 jobs"):
        alice.submit_jdl([job_jdl(f"j{i}", group) for i in range(21)])


def test_submission_batch_size_is_diracx_limit_where_no_larger_one_is_published(alice):
    """DiracX 0.7's configuration has no per-call job limit (its schema forbids unknown keys):
    gb2 sends 20 jobs a call there (the contract's embedded grid publishes 20 to match)."""
    assert published_batch_size(alice) == 20


def test_search_paging_and_summary(alice):
    group = f"page{run_id()}"
    for start in (0, 15, 30):
        alice.submit_jdl([job_jdl(f"n{i:02d}", group) for i in range(start, start + 15)])
    query = [{"parameter": "JobGroup", "operator": "eq", "value": group}]
    page = alice.search(["JobID", "JobName"], query, [{"parameter": "JobName", "direction": "asc"}], page=2, per_page=20)
    assert (page.first, page.last, page.total) == (20, 39, 45)
    assert [r["JobName"] for r in page.rows] == [f"n{i:02d}" for i in range(20, 40)]
    beyond = alice.search(["JobID"], query, page=5, per_page=20)
    assert beyond.rows == [] and beyond.total == 45
    assert len(list(alice.iter_search(["JobID"], query, per_page=7))) == 45
    like = alice.search(["JobName"], [*query, {"parameter": "JobName", "operator": "like", "value": "n1%"}], per_page=50)
    assert like.total == 10
    summary = alice.summary(["Status", "JobGroup"], query)
    assert summary == [{"Status": "Received", "JobGroup": group, "count": 45}]


# -- statuses, driven by the test as the job wrapper --------------------------------------------


def test_job_wrapper_walks_the_state_machine(alice):
    group = f"sm{run_id()}"
    job = alice.submit_jdl([job_jdl("walk", group)])[0]["JobID"]
    result = alice.set_job_status([job], status="Running", minor="Application", source="JobWrapper")
    assert result["success"][str(job)]["Status"] == "Received"  # illegal transition: stays put
    assert row(alice, job, "Status", "MinorStatus") == {"JobID": job, "Status": "Received", "MinorStatus": "Application"}
    for status, minor in (("Checking", "JobSanity"), ("Waiting", "Pilot Agent Submission"), ("Matched", "Assigned")):
        alice.set_job_status([job], status=status, minor=minor, source="JobWrapper")
    assert alice.heartbeat({job: {"LoadAverage": 0.5, "MemoryUsed": 10.0}}) == []
    assert row(alice, job, "Status")["Status"] == "Running"  # a heartbeat starts a Matched job
    alice.set_job_status([job], status="Completing", minor="Uploading Output Sandbox", source="JobWrapper")
    alice.set_job_status([job], status="Done", minor="Execution Complete", application="Done", source="JobWrapper")
    final = row(alice, job, "Status", "MinorStatus", "ApplicationStatus", "StartExecTime", "EndExecTime", "LoggingInfo")
    assert (final["Status"], final["MinorStatus"], final["ApplicationStatus"]) == ("Done", "Execution Complete", "Done")
    assert final["StartExecTime"] and final["EndExecTime"]
    history = [h["Status"] for h in final["LoggingInfo"] if h["Status"] != "idem"]
    assert history[0] == "Received" and history[-3:] == ["Running", "Completing", "Done"]


def test_status_history_of_several_jobs_and_their_attempts(alice):
    """DiracX.status_history (the LoggingInfo pseudo-parameter, many jobs per call), read as gb2's
    history: records in order with times, split into attempts at a reschedule."""
    from gb2.jobs.history import attempts, records
    from gb2.jobs.states import Minor

    group = f"hist{run_id()}"
    first, second = (j["JobID"] for j in alice.submit_jdl([job_jdl(n, group) for n in ("h1", "h2")]))
    for status, minor in (("Checking", "JobSanity"), ("Waiting", "Pilot Agent Submission"), ("Matched", "Assigned"),
                          ("Running", "Application")):  # fmt: skip
        alice.set_job_status([first], status=status, minor=minor, source="JobWrapper")
    alice.set_job_status([first], status="Failed", minor="Application Finished With Errors", source="JobWrapper")
    alice.reschedule([first])
    raw = alice.status_history([second, first, 999_999_999])
    assert set(raw) == {first, second}
    history = records(raw[first])
    assert [h.status for h in history][:6] == ["Received", "Checking", "Waiting", "Matched", "Running", "Failed"]
    assert all(h.time and h.source for h in history) and history[5].minor_status == "Application Finished With Errors"
    runs = attempts(history)
    assert len(runs) == 2 and runs[0].last.status == "Failed"
    assert runs[1].records[0].minor_status == Minor.RESCHEDULED
    assert [h.status for h in records(raw[second])] == ["Received"]


def test_a_user_cannot_hold_a_job_in_scouting_on_diracx_07(dx, alice):
    """Why gb2 holds scouted projects' jobs itself on a real DiracX: 0.7's JobStatus has no
    Scouting (a status update to it is refused) and a user may change no attribute the matcher
    reads (only Site, which a real matcher does not take from the job's row). gb2's server has
    BelleDIRAC's Scouting status, which its engine enforces."""
    job = alice.submit_jdl([job_jdl("held", f"sc{run_id()}")])[0]["JobID"]
    if dx.real:
        with pytest.raises(RequestRefused) as refused:
            alice.set_job_status([job], status="Scouting", minor="Waiting for Scout Job Completion", source="gb2")
        assert refused.value.status_code == 422
        assert row(alice, job, "Status")["Status"] == "Received"
    else:
        alice.set_job_status([job], status="Scouting", minor="Waiting for Scout Job Completion", source="JobScouting")
        assert row(alice, job, "Status")["Status"] == "Scouting"
    with pytest.raises(RequestRefused) as refused:
        alice.set_metadata({job: {"UserPriority": 0}})
    assert refused.value.status_code == 400


def test_force_needs_job_administrator(dx, alice):
    job = alice.submit_jdl([job_jdl("forced", f"f{run_id()}")])[0]["JobID"]
    with pytest.raises(Forbidden):
        alice.set_job_status([job], status="Running", force=True)
    admin = dx.login("alice", group="belle_jobadmin")
    admin.set_job_status([job], status="Running", minor="forced", force=True)
    assert row(alice, job, "Status")["Status"] == "Running"


def test_kill_delete_and_kill_command(alice):
    group = f"kill{run_id()}"
    waiting, matched, done = (j["JobID"] for j in alice.submit_jdl([job_jdl(n, group) for n in ("w", "m", "d")]))
    for job in (matched, done):
        for status in ("Checking", "Waiting", "Matched"):
            alice.set_job_status([job], status=status, source="JobWrapper")
    alice.set_job_status([done], status="Running", source="JobWrapper")
    alice.set_job_status([done], status="Done", source="JobWrapper")
    alice.kill([waiting, matched, done])
    assert row(alice, waiting, "Status")["Status"] == "Killed"
    assert row(alice, done, "Status")["Status"] == "Done"  # a finished job cannot be killed
    commands = alice.heartbeat({matched: {}})
    assert {"job_id": matched, "command": "Kill"}.items() <= commands[0].items()
    alice.delete([waiting, done])
    assert row(alice, waiting, "Status")["Status"] == "Deleted"
    assert row(alice, done, "Status")["Status"] == "Deleted"


def test_reschedule(dx, alice):
    job = alice.submit_jdl([job_jdl("again", f"rs{run_id()}")])[0]["JobID"]
    for status in ("Checking", "Waiting", "Matched", "Running", "Failed"):
        alice.set_job_status([job], status=status, source="JobWrapper")
    result = alice.reschedule([job])
    assert result["success"][str(job)]["RescheduleCounter"] == 1
    after = row(alice, job, "Status", "MinorStatus", "RescheduleCounter")
    assert (after["MinorStatus"], after["RescheduleCounter"]) == ("Job Rescheduled", 1)
    # DiracX 0.7 moves the job to Received through the state machine without force,
    # and Failed -> Received is not an allowed transition, so the job stays Failed
    # (diracx-logic jobs/status.py reschedule_jobs). gb2's server sends it back to
    # Received as DIRAC does; gb2 reads success from the counter, which both bump.
    assert after["Status"] == ("Failed" if dx.real else "Received")


# -- sandboxes -------------------------------------------------------------------------


def test_sandbox_round_trip(alice, tmp_path):
    (tmp_path / "steer.py").write_text(f"print('{run_id()}')\n")
    archive = make_archive([(tmp_path / "steer.py", "steer.py")])
    pfn = alice.upload_sandbox(archive)
    assert pfn.startswith("SB:SandboxSE|/S3/sandboxes/belle/belle/alice/sha256:")
    assert alice.upload_sandbox(archive) == pfn  # deduplicated, no second upload
    data = alice.download_sandbox(pfn)
    assert data == archive
    assert extract_archive(data, tmp_path / "out") == ["steer.py"]
    job = alice.submit_jdl([job_jdl("sb", f"sb{run_id()}", InputSandbox=[pfn])])[0]["JobID"]
    alice.assign_output_sandbox(job, pfn)
    assert alice.job_sandbox(job, "output") == [pfn.split("|", 1)[1]]
    assert pfn.split("|", 1)[1] in alice.job_sandboxes(job)["Output"]


# -- ownership -------------------------------------------------------------------------


def test_users_cannot_act_on_each_others_jobs(alice, bob, tmp_path):
    job = alice.submit_jdl([job_jdl("mine", f"own{run_id()}")])[0]["JobID"]
    (tmp_path / "f").write_text(run_id())
    pfn = alice.upload_sandbox(make_archive([(tmp_path / "f", "f")]))
    alice.assign_output_sandbox(job, pfn)
    for action in (lambda: bob.kill([job]), lambda: bob.set_job_status([job], minor="x"), lambda: bob.reschedule([job]),
                   lambda: bob.job_sandboxes(job), lambda: bob.assign_output_sandbox(job, pfn)):  # fmt: skip
        with pytest.raises(Forbidden):
            action()
    with pytest.raises(Forbidden, match="PFN must start with /S3/sandboxes/belle/belle/bob/"):
        bob.download_sandbox(pfn)
    assert row(alice, job, "Status")["Status"] == "Received"


# -- safe retries --------------------------------------------------------------------------


class LosingTransport(httpx.HTTPTransport):
    """Forwards the first ``n`` submissions to the server, then drops the response (test double)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == "/api/jobs/jdl":
            self.sent += 1
            if self.sent <= self.n:
                response.read()
                response.close()
                raise httpx.ReadTimeout("response lost (test double)", request=request)
        return response


def test_lost_responses_do_not_duplicate_jobs(dx, alice):
    group = f"lost{run_id()}"
    lossy = DiracX(dx.url, alice.tokens, client=httpx.Client(transport=LosingTransport(2)))
    names = [f"{group}_{i:05d}" for i in range(45)]
    result = Submitter(lossy, "alice", group, parallel=1).submit(
        [job_jdl(n, group) for n in names], names)  # fmt: skip
    found = rows(alice, group, "JobName")
    assert sorted(r["JobName"] for r in found) == names
    assert sorted(result.job_ids) == sorted(r["JobID"] for r in found)
    assert result.reconciled_batches == 2
