"""Wire-level drift check: the same raw requests to the embedded server and to the real one.

Each case sends one HTTP request (mostly error cases, where servers tend to differ)
to both, and compares what a client can observe: the status code, the content type
and the error's shape (DiracX ``detail``; Rucio ``ExceptionClass``).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import httpx
import pytest

from tests.contract.targets import DiracXTarget, run_id


@dataclass
class Side:
    name: str
    url: str
    alice: str
    bob: str


def q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


# -- DiracX -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dx_sides(embedded_grid, real_diracx, tmp_path_factory) -> list[Side]:
    sides = []
    for target in (DiracXTarget("embedded", embedded_grid.url, None, tmp_path_factory.mktemp("we"),
                                login_secret=embedded_grid.settings.login_secret_path),
                   DiracXTarget("real", real_diracx.url, real_diracx.idp_url, tmp_path_factory.mktemp("wr"))):  # fmt: skip
        sides.append(Side(target.name, target.url, target.login("alice").access_token(), target.login("bob").access_token()))
    return sides


def observe_dx(r: httpx.Response) -> tuple:
    try:
        body = r.json()
    except ValueError:
        body = None
    keys = sorted(body) if isinstance(body, dict) else type(body).__name__
    detail = body.get("detail") if isinstance(body, dict) and isinstance(body.get("detail"), str) else None
    return r.status_code, r.headers.get("content-type", "").split(";")[0], keys, detail, r.headers.get("content-range")


def alice_job(side: Side) -> int:
    r = httpx.post(f"{side.url}/api/jobs/jdl", headers={"Authorization": f"Bearer {side.alice}"},
                   json=[f'[Executable="x"; JobName="w"; JobGroup="wire{run_id()}"; JobType="User"]'])  # fmt: skip
    return r.json()[0]["JobID"]


DX_CASES = {
    "no token": lambda s, auth, job: httpx.post(f"{s.url}/api/jobs/search", json={}),
    "bad JDL": lambda s, auth, job: httpx.post(f"{s.url}/api/jobs/jdl", headers=auth(s.alice), json=["not jdl"]),
    "21 jobs": lambda s, auth, job: httpx.post(f"{s.url}/api/jobs/jdl", headers=auth(s.alice),
                                               json=[f'[Executable="x"; JobName="j{i}"]' for i in range(21)]),
    "unknown search parameter": lambda s, auth, job: httpx.post(
        f"{s.url}/api/jobs/search", headers=auth(s.alice), json={"parameters": ["NoSuchThing"]}),
    "page past the end": lambda s, auth, job: httpx.post(
        f"{s.url}/api/jobs/search", headers=auth(s.alice), params={"page": 1000, "per_page": 1},
        json={"parameters": ["JobID"], "search": [{"parameter": "JobID", "operator": "eq", "value": job}]}),
    "force as a normal user": lambda s, auth, job: httpx.patch(
        f"{s.url}/api/jobs/status", headers=auth(s.alice), params={"force": "true"},
        json={str(job): {"2030-01-01T00:00:00+00:00": {"Status": "Running", "Source": "x"}}}),
    "bob changes alice's job": lambda s, auth, job: httpx.patch(
        f"{s.url}/api/jobs/status", headers=auth(s.bob),
        json={str(job): {"2030-01-01T00:00:00+00:00": {"Status": "Killed", "Source": "User"}}}),
    "bob reschedules alice's job": lambda s, auth, job: httpx.post(
        f"{s.url}/api/jobs/reschedule", headers=auth(s.bob), json={"job_ids": [job]}),
    "bob lists alice's sandboxes": lambda s, auth, job: httpx.get(f"{s.url}/api/jobs/{job}/sandbox", headers=auth(s.bob)),
    "bob downloads alice's sandbox": lambda s, auth, job: httpx.get(
        f"{s.url}/api/jobs/sandbox", headers=auth(s.bob),
        params={"pfn": "SB:SandboxSE|/S3/sandboxes/belle/belle/alice/sha256:" + "0" * 64 + ".tar.bz2"}),
    "sandbox with a bad checksum": lambda s, auth, job: httpx.post(
        f"{s.url}/api/jobs/sandbox", headers=auth(s.alice),
        json={"checksum_algorithm": "sha256", "checksum": "xyz", "size": 10, "format": "tar.bz2"}),
    "heartbeat returns commands": lambda s, auth, job: httpx.patch(
        f"{s.url}/api/jobs/heartbeat", headers=auth(s.alice), json={str(job): {"LoadAverage": 1.0}}),
    "summary": lambda s, auth, job: httpx.post(
        f"{s.url}/api/jobs/summary", headers=auth(s.alice),
        json={"grouping": ["Status"], "search": [{"parameter": "JobID", "operator": "eq", "value": job}]}),
}


@pytest.mark.parametrize("case", list(DX_CASES))
def test_diracx_wire(dx_sides, case):
    def auth(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    seen = {}
    for side in dx_sides:
        seen[side.name] = observe_dx(DX_CASES[case](side, auth, alice_job(side)))
    embedded, real = seen["embedded"], seen["real"]
    assert embedded[:3] == real[:3], seen
    if case in ("no token", "bad JDL", "force as a normal user", "bob changes alice's job", "21 jobs"):
        assert embedded[3] == real[3], seen
    if case == "page past the end":
        assert embedded[4] == real[4] == "jobs */1"


# -- Rucio ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rucio_sides(embedded_grid, real_rucio, tmp_path_factory) -> list[Side]:
    login = DiracXTarget("embedded", embedded_grid.url, None, tmp_path_factory.mktemp("wre"),
                         login_secret=embedded_grid.settings.login_secret_path)
    embedded = Side("embedded", f"{embedded_grid.url}/rucio", login.login("alice").access_token(),
                    login.login("bob").access_token())  # fmt: skip
    real = Side("real", real_rucio.url, real_rucio.token("alice"), real_rucio.token("bob"))
    for side in (embedded, real):
        name = f"/belle/user/alice/wire{run_id()}"
        created = httpx.post(f"{side.url}/dids/user.alice/{q(name)}", headers={"X-Rucio-Auth-Token": side.alice},
                             json={"type": "DATASET", "meta": {"data_type": "mc"}})  # fmt: skip
        assert created.status_code == 201, created.text
        side.dataset = name  # type: ignore[attr-defined]
    return [embedded, real]


def observe_rucio(r: httpx.Response) -> tuple:
    return r.status_code, r.headers.get("content-type", "").split(";")[0], r.headers.get("ExceptionClass")


RUCIO_CASES = {
    "no token": lambda s: httpx.get(f"{s.url}/dids/user.alice/{q(s.dataset)}"),
    "missing DID": lambda s: httpx.get(f"{s.url}/dids/user.alice/{q(s.dataset + 'x')}", headers={"X-Rucio-Auth-Token": s.alice}),
    "get a DID": lambda s: httpx.get(f"{s.url}/dids/user.alice/{q(s.dataset)}", headers={"X-Rucio-Auth-Token": s.alice}),
    "create again": lambda s: httpx.post(f"{s.url}/dids/user.alice/{q(s.dataset)}",
                                         headers={"X-Rucio-Auth-Token": s.alice}, json={"type": "DATASET"}),
    "bob creates in alice's scope": lambda s: httpx.post(f"{s.url}/dids/user.alice/{q(s.dataset + 'b')}",
                                                         headers={"X-Rucio-Auth-Token": s.bob}, json={"type": "DATASET"}),
    "bob sets alice's metadata": lambda s: httpx.post(f"{s.url}/dids/user.alice/{q(s.dataset)}/meta",
                                                      headers={"X-Rucio-Auth-Token": s.bob}, json={"meta": {"data_type": "data"}}),
    "NDJSON with Accept json": lambda s: httpx.get(f"{s.url}/dids/user.alice/{q(s.dataset)}/files",
                                                   headers={"X-Rucio-Auth-Token": s.alice, "Accept": "application/json"}),
    "list files (NDJSON)": lambda s: httpx.get(f"{s.url}/dids/user.alice/{q(s.dataset)}/files", headers={"X-Rucio-Auth-Token": s.alice}),
    "search mixing column and JSON keys": lambda s: httpx.get(
        f"{s.url}/dids/user.alice/dids/search", headers={"X-Rucio-Auth-Token": s.alice},
        params={"type": "dataset", "filters": repr([{"campaign": "x", "data_type": "mc"}])}),
    "JSON metadata": lambda s: httpx.get(f"{s.url}/dids/user.alice/{q(s.dataset)}/meta", params={"plugin": "JSON"},
                                         headers={"X-Rucio-Auth-Token": s.alice}),
    "wrong password": lambda s: httpx.get(f"{s.url}/auth/userpass", headers={
        "X-Rucio-Account": "alice", "X-Rucio-Username": "alice", "X-Rucio-Password": "wrong"}),
    "replicas of an empty dataset": lambda s: httpx.post(f"{s.url}/replicas/list", headers={"X-Rucio-Auth-Token": s.alice},
                                                         json={"dids": [{"scope": "user.alice", "name": s.dataset}]}),
    "ping": lambda s: httpx.get(f"{s.url}/ping"),
}


@pytest.mark.parametrize("case", list(RUCIO_CASES))
def test_rucio_wire(rucio_sides, case):
    seen = {side.name: observe_rucio(RUCIO_CASES[case](side)) for side in rucio_sides}
    assert seen["embedded"] == seen["real"], seen

