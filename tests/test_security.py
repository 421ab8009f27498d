"""Security and data safety, driven as an attacker on the same machine would (issue 8).

Each test sends what an attacker sends: raw HTTP requests with a second user's
token (``http.client``, so that no client library normalises ``..`` away), a
second Unix account (``nobody``) where the test runs as root, names with
``..`` and their encoded forms, and a full disk: a tiny tmpfs where the test
may mount one, and everywhere a file-size limit (``RLIMIT_FSIZE``), which makes
the kernel cut writes short exactly as a full disk does.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gb2 import LOGIN_SECRET_HEADER
from gb2.client.rucio import RucioClient
from gb2.client.tokens import token_path
from gb2.data.checksum import Adler32, adler32_file
from gb2.server.settings import ServerSettings, User, local_username
from tests.cli import UUBAR
from tests.conftest import device_login

BIN = Path(sys.executable).parent
TMP_SE = "KEK-TMP-DISK-SE"


def adler32_bytes(data: bytes) -> str:
    checksum = Adler32()
    checksum.update(data)
    return checksum.hexdigest()


def raw_request(url: str, method: str, path: str, token: str, body: bytes = b"", rucio: bool = False) -> tuple[int, bytes]:
    """One HTTP request with the path exactly as given (no dot-segment removal)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"X-Rucio-Auth-Token": token} if rucio else {"Authorization": f"Bearer {token}"}
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def se_file(server, se: str, lfn: str) -> Path:
    return server.settings.se_root / se / lfn.lstrip("/")


@pytest.fixture
def tokens(server) -> dict[str, str]:
    return {name: device_login(server, name)["access_token"] for name in ("alice", "bob")}


# -- finding 1: storage path traversal ----------------------------------------------------------


def test_storage_refuses_dot_segments_and_encoded_separators(server, tokens):
    alice_lfn = "/belle/user/alice/proj/sub00/out_00000_job1_00.root"
    status, _ = raw_request(server.url, "PUT", f"/se/{TMP_SE}{alice_lfn}", tokens["alice"], b"alice's data")
    assert status == 201
    official = next(p for p in (server.settings.se_root / "KEK-DATA-SE").rglob("*.root"))
    official_before = official.read_bytes()
    official_lfn = "/" + str(official.relative_to(server.settings.se_root / "KEK-DATA-SE"))
    below_mc = official_lfn.removeprefix("/belle/")
    attacks = [
        ("PUT", TMP_SE, "/belle/user/bob/../alice/proj/sub00/out_00000_job1_00.root?overwrite=true"),
        ("PUT", TMP_SE, "/belle/user/bob/%2e%2e/alice/proj/sub00/out_00000_job1_00.root?overwrite=true"),
        ("PUT", TMP_SE, "/belle/user/bob/%2E%2E/alice/proj/sub00/out_00000_job1_00.root?overwrite=true"),
        ("PUT", TMP_SE, "/belle/user/bob/..%2falice/proj/sub00/out_00000_job1_00.root?overwrite=true"),
        ("PUT", TMP_SE, "/belle/user/bob/./../alice/proj/sub00/out_00000_job1_00.root?overwrite=true"),
        ("PUT", TMP_SE, "/belle/user/bob//x.root"),
        ("PUT", TMP_SE, "/belle/user/bob/x%00.root"),
        ("PUT", "KEK-DATA-SE", f"/belle/user/bob/../../{below_mc}?overwrite=true"),
        ("PUT", "KEK-DATA-SE", f"/belle/user/bob/%2e%2e/%2e%2e/{below_mc}?overwrite=true"),
        ("DELETE", TMP_SE, "/belle/user/bob/../alice/proj/sub00/out_00000_job1_00.root"),
        ("DELETE", TMP_SE, "/belle/user/bob/%2e%2e/alice/proj/sub00/out_00000_job1_00.root"),
        ("DELETE", "KEK-DATA-SE", f"/belle/user/bob/../../{below_mc}"),
        ("GET", TMP_SE, "/belle/user/bob/../alice/proj/sub00/out_00000_job1_00.root"),
    ]
    for method, se, path in attacks:
        status, body = raw_request(server.url, method, f"/se/{se}{path}", tokens["bob"], b"bob was here")
        assert status == 400, (method, se, path, status, body)
    assert se_file(server, TMP_SE, alice_lfn).read_bytes() == b"alice's data"
    assert official.read_bytes() == official_before
    # What stays allowed: bob in his own area, alice reading hers.
    assert raw_request(server.url, "PUT", f"/se/{TMP_SE}/belle/user/bob/p/sub00/a.root", tokens["bob"], b"b")[0] == 201
    assert raw_request(server.url, "GET", f"/se/{TMP_SE}{alice_lfn}", tokens["alice"])[1] == b"alice's data"
    assert raw_request(server.url, "PUT", f"/se/{TMP_SE}{alice_lfn}?overwrite=true", tokens["bob"], b"x")[0] == 403


# -- finding 2: names with .. in the catalogue and in downloads ------------------------------------


def test_catalogue_refuses_non_canonical_names(server, tokens):
    bob = RucioClient(f"{server.url}/rucio", token=lambda: tokens["bob"])
    bob.add_container("user.bob", "/belle/user/bob/trap")
    bob.add_dataset("user.bob", "/belle/user/bob/trap/sub00")
    data = b"export PATH=/tmp/evil:$PATH\n"
    bad_names = ["/belle/user/bob/trap/sub00/../../.bashrc", "/belle/user/bob/trap/sub00/./x.root",
                 "/belle/user/bob/trap//sub00/x.root", "/belle/user/bob/trap/sub00/x\n.root",
                 "/belle/user/bob/trap/sub00/x\x00.root", "/belle/user/bob/trap/sub00/"]
    for name in bad_names:
        body = [{"scope": "user.bob", "name": name, "bytes": len(data), "adler32": adler32_bytes(data)}]
        r = httpx.post(f"{server.url}/rucio/replicas", headers={"X-Rucio-Auth-Token": tokens["bob"]},
                       json={"rse": TMP_SE, "files": body})  # fmt: skip
        assert r.status_code == 400 and r.headers["ExceptionClass"] == "InvalidObject", (name, r.text)
    for path in ("/dids/user.bob/belle/user/bob/trap/sub00/../x", "/dids/user.bob/belle/user/bob/./x",
                 "/dids/user.bob/belle/user/bob/trap/%2e%2e/y"):
        status, body = raw_request(server.url, "POST", f"/rucio{path}", tokens["bob"], b'{"type": "DATASET"}', rucio=True)
        assert status == 400 and b"not a valid Belle II DID name" in body, (path, body)
    assert not list(bob.list_files("user.bob", "/belle/user/bob/trap"))


def plant_name(server, se: str, good: str, evil: str) -> None:
    """A catalogue that holds a hostile name and serves it (as a laxer server, or one from before
    this check, would): the name is changed in the database under the running server and the
    replica moved to where a server that resolves ``..`` finds it."""
    with sqlite3.connect(server.settings.db_path) as c:
        assert c.execute("UPDATE rucio_dids SET name=? WHERE name=?", (evil, good)).rowcount == 1
    served = Path(os.path.normpath(se_file(server, se, evil)))
    se_file(server, se, good).rename(served)


def test_download_never_writes_outside_its_destination(grid, tmp_path, monkeypatch):
    bob_token = device_login(grid.server, "bob")["access_token"]
    bob = RucioClient(f"{grid.server.url}/rucio", token=lambda: bob_token)
    bob.create_project("/belle/user/bob/trap", 1)
    data = b"export PATH=/tmp/evil:$PATH\n"
    good = "/belle/user/bob/trap/sub00/bashrc_00000_job1_00.root"
    assert raw_request(grid.server.url, "PUT", f"/se/{TMP_SE}{good}", bob_token, data)[0] == 201
    bob.register_files(TMP_SE, [{"name": good, "bytes": len(data), "adler32": adler32_bytes(data)}],
                       "/belle/user/bob/trap/sub00")  # fmt: skip
    plant_name(grid.server, TMP_SE, good, "/belle/user/bob/trap/sub00/../../.bashrc")
    victim = tmp_path / "victim"
    (victim / "dl").mkdir(parents=True)
    monkeypatch.chdir(victim / "dl")
    r = grid.run("gb2_ds_get", "/belle/user/bob/trap", "--force", "--json")
    assert r.code == 1
    (failure,) = r.json()["failed"]
    assert failure["lfn"].endswith("/../../.bashrc") and failure["reason"].startswith("refused:")
    assert not (victim / ".bashrc").exists() and not (tmp_path / ".bashrc").exists()
    assert list((victim / "dl").rglob("*")) == []


def test_job_output_never_writes_outside_log(grid, tmp_path, monkeypatch):
    from tests.helpers import jdl

    (job,) = grid.dx.submit_jdl([jdl(name="escape_00000", group="../../escape")])
    job_id = job["JobID"]
    grid.wait_project("../../escape")
    monkeypatch.chdir(tmp_path)
    r = grid.run("gb2_job_output", "-p", "../../escape", "--json")
    assert r.code == 1
    assert "outside" in r.json()["failed"][str(job_id)] or "unsafe" in r.json()["failed"][str(job_id)]
    assert not (tmp_path.parent / "escape").exists() and not (tmp_path / "escape").exists()


def test_jobs_cannot_name_files_outside_their_folder(grid, tmp_path):
    """The engine runs payloads as the server's owner: JDL file names stay in the job's folder."""
    from tests.helpers import jdl

    work = grid.server.settings.work_root
    escaped = jdl(name="out_00000", group="escape2", StdOutput="../../escaped.txt")
    shipped = jdl(name="out_00001", group="escape2", OutputSandbox=["../*", "std.out"])
    ids = [j["JobID"] for j in grid.dx.submit_jdl([escaped, shipped])]
    grid.wait_project("escape2")
    rows = {r["JobID"]: r for r in grid.dx.search(["JobID", "Status", "MinorStatus"], []).rows if r["JobID"] in ids}
    assert rows[ids[0]]["Status"] == "Failed" and rows[ids[0]]["MinorStatus"] == "Illegal Job JDL"
    assert not any(p.name == "escaped.txt" for p in grid.server.settings.data_dir.rglob("escaped.txt"))
    assert rows[ids[1]]["Status"] == "Done"
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    r = run_tool("gb2_job_output", "-j", ids[1], "--json", cwd=out_dir)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (out_dir / "log" / str(ids[1])).iterdir()) == ["std.err", "std.out"]
    assert work.exists()


# -- finding 3: only the owner of the embedded server logs in --------------------------------------

ATTACKER = r"""
import json, sys, urllib.error, urllib.parse, urllib.request
url, secret_file, hint = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
try:
    open(secret_file).read()
    out["read_secret"] = True
except OSError as exc:
    out["read_secret"] = False
def call(method, address, data=None):
    req = urllib.request.Request(address, method=method, data=data)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
q = urllib.parse.urlencode({"client_id": "myDIRACClientID", "scope": "vo:belle group:belle"})
status, body = call("POST", f"{url}/api/auth/device?{q}")
flow = json.loads(body)
approve = flow["verification_uri_complete"]
out["approve"] = call("GET", approve)[0]
out["approve_hint"] = call("GET", approve + "&" + urllib.parse.urlencode({"login_hint": hint}))[0]
form = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                               "device_code": flow["device_code"], "client_id": "myDIRACClientID"}).encode()
out["token"] = call("POST", f"{url}/api/auth/token", form)
print(json.dumps(out))
"""


def as_other_account() -> dict:
    """Run as ``nobody`` where we are root (a second Unix account); else as ourselves without the
    secret, which is the same set of requests (documented equivalent)."""
    if os.geteuid() != 0:
        return {}

    def drop() -> None:
        os.setgid(65534)
        os.setuid(65534)

    return {"preexec_fn": drop}


def test_another_account_cannot_log_in_as_the_owner(server_factory, tmp_path):
    srv = server_factory(users=[User("owner"), User("alice")])
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    proc = subprocess.run([python, "-c", ATTACKER, srv.url, str(srv.settings.login_secret_path), "alice"],
                          capture_output=True, text=True, timeout=60, cwd="/", **as_other_account())  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["approve"] == 403 and seen["approve_hint"] == 403
    status, body = seen["token"]
    assert status == 400 and json.loads(body) == {"error": "authorization_pending"}
    if os.geteuid() == 0:
        assert seen["read_secret"] is False
    # A wrong secret is refused too; the owner's secret works.
    flow = httpx.post(f"{srv.url}/api/auth/device", params={"client_id": "myDIRACClientID", "scope": "vo:belle"}).json()
    wrong = httpx.get(flow["verification_uri_complete"], headers={LOGIN_SECRET_HEADER: "0" * 64})
    assert wrong.status_code == 403
    assert device_login(srv, "alice")["access_token"]


def test_proxy_init_presents_the_secret_only_the_owner_can_read(server_factory, tmp_path):
    srv = server_factory(users=[User("ci"), User("ci2")])
    secret = srv.settings.login_secret_path
    env = {**os.environ, "GB2_PROFILE": "mock"}
    subprocess.run([BIN / "gb2_config", "add", "mock", "--diracx", srv.url, "--rucio", f"{srv.url}/rucio",
                    "--login-secret-file", secret], check=True, capture_output=True, env=env)  # fmt: skip
    ok = subprocess.run([BIN / "gb2_proxy_init", "--user", "ci2", "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["username"] == "ci2"
    unknown = subprocess.run([BIN / "gb2_proxy_init", "--user", "mallory"], capture_output=True, text=True, env=env)
    assert unknown.returncode == 3 and unknown.stderr.count("\n") == 1 and "mallory" in unknown.stderr  # refused login


# -- finding 4: a local account named root is an ordinary user --------------------------------------


def test_local_root_is_not_the_catalogue_administrator(server_factory, monkeypatch):
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(var, "root")
    assert local_username() != "root"
    srv = server_factory(users=[])  # the default: the local account, here "root"
    owner = srv.settings.default_user.username
    token = device_login(srv)["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["preferred_username"] == owner != "root"
    r = httpx.post(f"{srv.url}/rucio/dids/mc/belle/MC/evil", headers={"X-Rucio-Auth-Token": token},
                   json={"type": "CONTAINER"})  # fmt: skip
    assert r.status_code in (401, 403, 500) and r.headers["ExceptionClass"] == "AccessDenied"
    with pytest.raises(ValueError, match="reserved"):
        ServerSettings(data_dir=srv.settings.data_dir, users=[User("root")])


# -- finding 5: a full disk loses nothing silently ------------------------------------------------


def limited(max_bytes: int):  # type: ignore[no-untyped-def]
    """A child whose writes stop at ``max_bytes`` per file: short writes, then EFBIG."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def run_tool(tool: str, *args: str, cwd: Path, max_bytes: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([BIN / tool, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120, preexec_fn=limited(max_bytes) if max_bytes else None)  # fmt: skip


def assert_nothing_partial(folder: Path, catalogue: dict[str, tuple[int, str]]) -> None:
    """Every file under its final name matches the catalogue; no partial file is left."""
    for path in folder.rglob("*"):
        if path.is_file():
            assert not path.name.startswith("."), f"partial file left: {path}"
            if path.name == "gb2_manifest.json":  # gb2_ds_get's record: whole JSON or absent
                assert json.loads(path.read_text())["format"] == "gb2-download-manifest"
                continue
            size, adler = catalogue[path.name]
            assert path.stat().st_size == size and adler32_file(path) == adler, path


def test_short_writes_fail_the_file_and_leave_nothing(grid, tmp_path):
    files = {f.name.rsplit("/", 1)[-1]: (f.bytes, f.adler32) for f in RucioClient(
        f"{grid.server.url}/rucio", token=grid.dx.access_token).resolve(UUBAR)}  # fmt: skip
    assert all(size > 8192 for size, _ in files.values())
    r = run_tool("gb2_ds_get", UUBAR, "--force", "--json", "--failed_lfns", "failed.txt", cwd=tmp_path, max_bytes=8192)
    assert r.returncode == 1, r.stderr
    outcome = json.loads(r.stdout)
    assert outcome["downloaded"] == [] and len(outcome["failed"]) == len(files)
    assert all("File too large" in f["reason"] for f in outcome["failed"])
    assert_nothing_partial(tmp_path / "mdst", files)
    assert len((tmp_path / "failed.txt").read_text().splitlines()) == len(files)
    again = run_tool("gb2_ds_get", UUBAR, "--force", "--json", cwd=tmp_path)  # room again: it completes
    assert again.returncode == 0 and len(json.loads(again.stdout)["downloaded"]) == len(files)
    assert_nothing_partial(tmp_path / "mdst", files)


def mount_tiny_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0  # fmt: skip


def test_full_tmpfs_download(grid, tmp_path):
    disk = tmp_path / "disk"
    if not mount_tiny_tmpfs(disk, "16k"):
        pytest.skip("cannot mount a tmpfs here (not root); test_short_writes_fail_the_file_and_leave_nothing "
                    "covers the same short writes with RLIMIT_FSIZE")
    try:
        files = {f.name.rsplit("/", 1)[-1]: (f.bytes, f.adler32) for f in RucioClient(
            f"{grid.server.url}/rucio", token=grid.dx.access_token).resolve(UUBAR)}  # fmt: skip
        r = run_tool("gb2_ds_get", UUBAR, "--force", "--json", "--parallel", "1", cwd=disk)
        assert r.returncode == 1, r.stderr
        outcome = json.loads(r.stdout)
        assert outcome["failed"] and all("No space left on device" in f["reason"] for f in outcome["failed"])
        assert_nothing_partial(disk / "mdst", files)
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_config_and_token_writes_are_whole_or_absent(grid, tmp_path):
    config = Path(os.environ["GB2_CONFIG_DIR"]) / "config.yaml"
    before = config.read_bytes()
    r = run_tool("gb2_config", "add", "big", "--diracx", "http://x.example", "--rucio", "http://y.example",
                 cwd=tmp_path, max_bytes=16)  # fmt: skip
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "File too large" in r.stderr
    assert config.read_bytes() == before and sorted(p.name for p in config.parent.iterdir()) == ["config.yaml"]
    tokens = token_path("test")
    token_before = tokens.read_bytes()
    r = run_tool("gb2_job_status", cwd=tmp_path, max_bytes=16)  # a refresh that cannot be saved
    tokens_dir = sorted(p.name for p in tokens.parent.iterdir() if not p.name.endswith(".lock"))
    assert tokens_dir == ["test.json"] and tokens.read_bytes() == token_before


def test_job_output_on_a_full_disk_places_no_folder(grid, tmp_path):
    from tests.cli import submit

    (job_id, *_) = submit(grid, "fulldisk", Path(__file__).parent.parent / "steering_examples" / "mc_generation.py")
    grid.wait_project("fulldisk")
    r = run_tool("gb2_job_output", "-j", job_id, "--json", cwd=tmp_path, max_bytes=64)
    assert r.returncode == 1, r.stderr
    assert "File too large" in json.loads(r.stdout)["failed"][str(job_id)]
    assert not (tmp_path / "log" / str(job_id)).exists()
    assert [p for p in (tmp_path / "log").iterdir()] == []


# -- finding 6: names that would become paths; modes of the server's secrets ------------------------


def test_profile_names_cannot_leave_their_folders(grid, tmp_path):
    for name in ("../../x", "a/b", "..", ".hidden", "", "x\ny"):
        r = run_tool("gb2_config", "add", name, "--diracx", "http://x.example", "--rucio", "http://y.example",
                     cwd=tmp_path)  # fmt: skip
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "invalid profile name" in r.stderr, name
        env_run = subprocess.run([BIN / "gb2_proxy_info"], capture_output=True, text=True,
                                 env={**os.environ, "GB2_PROFILE": name or "."})  # fmt: skip
        assert env_run.returncode == 2 and "invalid profile name" in env_run.stderr
    cache = Path(os.environ["GB2_CACHE_DIR"])
    assert not any(p.name == "x.json" for p in cache.parent.rglob("x.json"))


def test_server_state_is_private(server, tokens):
    data = server.settings.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "keys").stat().st_mode) == 0o700
    for path in (server.settings.db_path, server.settings.login_secret_path, data / "keys" / "signing-key.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{server.settings.db_path}{suffix}")
        if extra.exists():
            assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra


# -- what holds already, kept with tests ------------------------------------------------------------


def bad_tokens(server) -> dict[str, str]:
    user = server.settings.user("alice")
    good, _ = server.state.authority.mint_access_token(user, "belle")
    header, payload, _sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    expired, _ = server.state.authority.mint_access_token(user, "belle", minutes=-1)
    refresh = device_login(server, "alice")["refresh_token"]
    return {
        "wrong key": jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA"),
        "alg none": f"{none_header}.{payload}.",
        "expired": expired,
        "refresh as access": refresh,
        "garbage": "not.a.jwt",
    }


ROUTES = [
    ("POST", "/api/jobs/search", b"{}"),
    ("POST", "/api/jobs/summary", b'{"grouping": ["Status"]}'),
    ("GET", "/api/auth/userinfo", b""),
    ("GET", "/api/jobs/sandbox?pfn=SB:SandboxSE|/S3/sandboxes/belle/belle/alice/x.tar.bz2", b""),
    ("GET", "/rucio/accounts/whoami", b""),
    ("GET", f"/se/{TMP_SE}/belle/user/alice/x.root", b""),
    ("PUT", f"/se/{TMP_SE}/belle/user/alice/x.root", b"x"),
]


def test_bad_tokens_are_refused_on_every_route(server):
    for kind, token in bad_tokens(server).items():
        for method, path, body in ROUTES:
            headers = {"Authorization": f"Bearer {token}", "X-Rucio-Auth-Token": token}
            r = httpx.request(method, f"{server.url}{path}", headers=headers, content=body or None)
            assert r.status_code == 401, (kind, method, path, r.status_code, r.text)


def test_yaml_tags_are_refused_in_the_config(grid, tmp_path):
    config = Path(os.environ["GB2_CONFIG_DIR"]) / "config.yaml"
    marker = tmp_path / "pwned"
    config.write_text(f"profiles: !!python/object/apply:os.system ['touch {marker}']\n")
    r = run_tool("gb2_config", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and not marker.exists()


def test_servers_listen_on_loopback_only(server):
    assert urlsplit(server.url).hostname == "127.0.0.1"
    assert ServerSettings(data_dir=server.settings.data_dir).host == "127.0.0.1"


def test_no_token_or_secret_in_command_output(grid, tmp_path):
    """No token reaches stdout/stderr of any login or status command."""
    grid.run("gb2_proxy_destroy")
    secret = grid.server.settings.login_secret_path
    env = {**os.environ}
    subprocess.run([BIN / "gb2_config", "add", "test", "--diracx", grid.server.url, "--rucio",
                    f"{grid.server.url}/rucio", "--login-secret-file", secret, "--use"], check=True,
                   capture_output=True, env=env)  # fmt: skip
    outputs = [run_tool(t, *a, cwd=tmp_path) for t, a in (("gb2_proxy_init", ()), ("gb2_proxy_info", ()),
                                                        ("gb2_proxy_info", ("--json",)), ("gb2_job_status", ()))]
    stored = json.loads(token_path("test").read_text())
    for out in outputs:
        assert out.returncode == 0, out.stderr
        for value in (stored["access_token"], stored["refresh_token"], secret.read_text().strip()):
            assert value not in out.stdout and value not in out.stderr
    assert time.time() < stored["expires_at"]


def test_list_file_that_is_a_fifo_is_written_not_replaced(grid, tmp_path):
    """``--failed_lfns /dev/null`` as root once replaced the device by a regular file: special files
    are written in place (a FIFO here, so that a regression cannot damage the machine)."""
    import threading

    fifo = tmp_path / "failed.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    r = run_tool("gb2_ds_get", UUBAR, "--force", "--failed_lfns", fifo, cwd=tmp_path)
    reader.join(timeout=30)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and received == [b""]
