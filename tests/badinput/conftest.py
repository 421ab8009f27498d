"""The bad-input suite: every command, fed what a new user or a fuzzer types.

One embedded server (engine off: jobs stay where the world put them) serves the
whole package; commands run in-process through the console-script entry point, as
``tests/cli.py`` does. Each case asserts the README's rule: the documented exit
code, exactly one ``<tool>: error: ...`` line on stderr (no traceback, no
"internal error") and that nothing changed: no job submitted or changed on the
server, no catalogue name or rule added or removed, no file written in the
working directory, the config and token cache untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gb2.client.rucio import RucioClient
from gb2.config import Config, Profile
from gb2.data.register import register_outputs
from gb2.server.runner import EmbeddedServer
from gb2.server.settings import ServerSettings, User
from tests.cli import CHARGED, COLLECTION, EXAMPLES, RELEASE, UUBAR, Grid, Result
from tests.helpers import jdl, login

PROJECT = "have"  # alice's project: three jobs (Received), two registered output files
REMOVED = "gone"  # alice's project removed with gb2_ds_rm


@dataclass
class Case:
    """One bad input: ``tool args`` must exit ``code`` with ``message`` in its one error line."""

    tool: str
    args: tuple[str, ...]
    code: int
    message: str
    env: dict[str, str] = field(default_factory=dict)  # environment for this case only
    prefix: str | None = None  # the error line's tool name, if not ``tool`` (the umbrella)
    #: run as a process whose files may grow to this many bytes: a full disk (RLIMIT_FSIZE
    #: makes the kernel cut writes short, then fail, exactly as a full disk does)
    fsize: int | None = None


def case(tool: str, *args: str, code: int, message: str, env: dict[str, str] | None = None,
         prefix: str | None = None, fsize: int | None = None, id: str | None = None) -> Any:  # fmt: skip
    """A table row: ``pytest.param`` with a readable id."""
    name = id or " ".join([tool, *args])[:100]
    return pytest.param(Case(tool, tuple(args), code, message, env or {}, prefix, fsize), id=name)


@dataclass
class World:
    home: Path
    inputs: Path
    server: EmbeddedServer
    html: HtmlServer
    alice_jobs: list[int]
    bob_job: int
    output_files: list[str]

    def values(self) -> dict[str, str]:
        """Placeholders the tables use in arguments and environments."""
        return {
            "in": str(self.inputs), "UUBAR": UUBAR, "CHARGED": CHARGED, "COLLECTION": COLLECTION,
            "NTUPLE": str(EXAMPLES / "ntuple_analysis.py"), "MCGEN": str(EXAMPLES / "mc_generation.py"),
            "RELEASE": RELEASE, "ALICEJOB": str(self.alice_jobs[0]), "BOBJOB": str(self.bob_job),
            "OUTFILE": self.output_files[0], "PROJECT": PROJECT, "REMOVED": REMOVED, "home": str(self.home),
            "HTML": self.html.url,
        }  # fmt: skip

    @property
    def rucio(self) -> RucioClient:
        from gb2.client.diracx import DiracX
        from gb2.client.tokens import TokenStore

        return RucioClient(f"{self.server.url}/rucio", token=DiracX(self.server.url, TokenStore.for_profile("test")).access_token)


def _env(home: Path) -> dict[str, str]:
    return {"GB2_CONFIG_DIR": str(home / "config"), "GB2_CACHE_DIR": str(home / "cache"),
            "GB2_DATA_DIR": str(home / "data"), "GB2_RETRIES": "1", "GB2_RETRY_WAIT": "0.05"}  # fmt: skip


def _inputs(folder: Path) -> Path:
    """Local files the tables refer to as {in}/...: empty, binary, oversized, broken."""
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "comments.txt").write_text("# only a comment\n\n")
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (folder / "nul.py").write_bytes(b"import basf2\x00\n")
    (folder / "broken.py").write_text("import basf2\ndef broken(:\n    pass\n")
    (folder / "latin1.txt").write_bytes("/belle/MC/caf\xe9\n".encode("latin-1"))
    (folder / "missing_ds.txt").write_text(f"{UUBAR}\n/belle/MC/release-06-00-08/DB00002100/nothing/mdst\n")
    (folder / "dir").mkdir()
    os.mkfifo(folder / "fifo")  # not a regular file: written in place, never replaced (as a device)
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    (folder / "a" / "lib.so").write_text("a")
    (folder / "b" / "lib.so").write_text("b")
    with open(folder / "big.bin", "wb") as f:
        f.truncate(11 * 10**6)  # over the 10 MB sandbox limit, sparse
    for name, text in CONFIGS.items():  # {in}/config-<name>/config.yaml, for GB2_CONFIG_DIR
        (folder / f"config-{name}").mkdir()
        target = folder / f"config-{name}" / "config.yaml"
        if text is None:
            target.mkdir()
        else:
            target.write_bytes(text if isinstance(text, bytes) else text.encode())
    for name, text in TOKEN_CACHES.items():  # {in}/cache-<name>/tokens/test.json, for GB2_CACHE_DIR
        tokens = folder / f"cache-{name}" / "tokens"
        tokens.mkdir(parents=True, mode=0o700)
        (tokens / "test.json").write_text(text)
        (tokens / "test.json").chmod(0o600)
    return folder


#: Broken config files (None: config.yaml is a folder).
CONFIGS: dict[str, str | bytes | None] = {
    "number": "profiles: 5\n",
    "list": "profiles: [1, 2]\n",
    "text": "profiles: everything\n",
    "binary": bytes(range(256)),
    "folder": None,
    "yaml": "profiles: {a: [\n",
    "toplist": "- profiles\n",
    "profile-text": "profiles:\n  kek: remote\n",
    "port": "active_profile: kek\nprofiles:\n  kek: {type: remote, diracx_url: 'http://a', rucio_url: 'http://b', port: abc}\n",
    "not-a-url": "active_profile: kek\nprofiles:\n  kek: {diracx: not a url, rucio: 'http://b'}\n",
    "type": "active_profile: kek\nprofiles:\n  kek: {type: martian}\n",
    "active-number": "active_profile: 5\n",
    "active-missing": "active_profile: nosuch\n",
    "name": "profiles:\n  ../x: {type: embedded}\n",
}
#: Damaged token caches of the profile "test".
TOKEN_CACHES: dict[str, str] = {
    "number": '{"access_token": 5, "expires_at": 1e12}',
    "json": "{not json",
    "list": "[1, 2]",
    "no-expiry": '{"access_token": "abc"}',
    "expiry-text": '{"access_token": "abc", "expires_at": "soon"}',
    "refresh-number": '{"access_token": "abc", "expires_at": 1e12, "refresh_token": 7}',
}


class HtmlServer:
    """A web server that is not DiracX: every request gets an HTML error page (a wrong URL
    in a profile). Requests under ``/500/`` get a 500 page, all others a 404 page."""

    PAGE = ("<!DOCTYPE html>\n<html>\n<head>\n<title>{status} {reason}</title>\n</head>\n<body>\n"
            "<h1>{reason}</h1>\n<p>The requested URL was not found on this server.</p>\n<hr>\n"
            "<address>Apache/2.4.57 Server at example.org Port 443</address>\n</body>\n</html>\n")  # fmt: skip

    def __init__(self) -> None:
        import http.server
        import threading

        page = self.PAGE

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                status, reason = (500, "Internal Server Error") if self.path.startswith("/500/") else (404, "Not Found")
                body = page.format(status=status, reason=reason).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=iso-8859-1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("badinput")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in _env(home).items():
            mp.setenv(key, value)
        settings = ServerSettings(data_dir=home / "server", run_engine=False,
                                  users=[User("alice", ("belle", "belle_jobadmin")), User("bob")])  # fmt: skip
        server = EmbeddedServer(settings).start()
        html = HtmlServer()
        try:
            config = Config.load()
            config.profiles["test"] = Profile("test", "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio",
                                              login_secret_file=str(settings.login_secret_path))  # fmt: skip
            for name, base in (("html", html.url), ("html500", f"{html.url}/500")):
                config.profiles[name] = Profile(name, "remote", diracx_url=base, rucio_url=f"{base}/rucio")
            config.active_profile = "test"
            config.save()
            yield _populate(home, server, html)
        finally:
            html.stop()
            server.stop()


def _populate(home: Path, server: EmbeddedServer, html: HtmlServer) -> World:
    """alice's project with jobs and outputs, a removed project, and a job of bob's."""
    from commands._entry import run

    assert run("gb2_proxy_init", ["--json"]) == 0
    assert run("gbasf2", [str(EXAMPLES / "ntuple_analysis.py"), "-p", PROJECT, "-s", RELEASE, "-i", UUBAR,
                          "--force", "--json"]) == 0  # fmt: skip
    assert run("gbasf2", [str(EXAMPLES / "mc_generation.py"), "-p", REMOVED, "-s", RELEASE, "--force"]) == 0
    assert run("gb2_job_kill", ["-p", REMOVED, "--force"]) == 0
    assert run("gb2_ds_rm", [REMOVED, "--force"]) == 0
    outputs = home / "outputs"
    outputs.mkdir()
    planned = []
    for index in range(2):
        path = outputs / f"ntuple_{index:05d}.root"
        path.write_bytes(os.urandom(2048))
        planned.append((path, f"/belle/user/alice/{PROJECT}/sub00/ntuple_{index:05d}_job{index + 1}_00.root", 10))
    world = World(home, _inputs(home / "inputs"), server, html, [], 0, [lfn for _, lfn, _ in planned])
    rucio = world.rucio
    register_outputs(rucio, "DESY-TMP-SE", planned, token=rucio.token())
    shutil.rmtree(outputs)
    bob = login(server, "bob", home)
    world.bob_job = int(bob.submit_jdl([jdl("bobs", "bobproject")])[0]["JobID"])
    world.alice_jobs = sorted(int(j["JobID"]) for j in world_dx().iter_search(
        ["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": PROJECT}]))  # fmt: skip
    return world


def world_dx():  # type: ignore[no-untyped-def]
    from gb2.client.diracx import DiracX
    from gb2.client.tokens import TokenStore
    from gb2.config import active_profile

    return DiracX(active_profile().diracx_url or "", TokenStore.for_profile("test"))


@pytest.fixture(autouse=True)
def isolated_home(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every case runs with the package's home (its server and login) in a fresh, empty folder."""
    for key, value in _env(world.home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GB2_PROFILE", raising=False)
    monkeypatch.delenv("GB2_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return world.home


def _files(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}  # fmt: skip


def snapshot(world: World) -> dict[str, Any]:
    """What a bad input must not change: jobs, catalogue names and rules, local files."""
    dx = world_dx()
    rucio = world.rucio
    block = f"/belle/user/alice/{PROJECT}/sub00"
    return {
        "jobs": sorted((r["Owner"], r["JobGroup"], r["Status"], r["count"])
                       for r in dx.summary(["Owner", "JobGroup", "Status"])),  # fmt: skip
        "names": sorted(rucio.search_dids("user.alice", {"name": "*"}, did_type="all")),
        "rules": sorted(r["id"] for r in rucio.list_rules("user.alice", block)),
        "files": [f.name for f in rucio.resolve(f"/belle/user/alice/{PROJECT}")],
        "config": _files(world.home / "config"),
        "tokens": _files(world.home / "cache"),
    }


def check(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path, bad: Case) -> Result:  # fmt: skip
    """Run one case and assert the rule; returns the result for extra checks."""
    values = world.values()
    args = [a.format(**values) for a in bad.args]
    before = snapshot(world)
    with monkeypatch.context() as case_env:
        for key, value in bad.env.items():
            case_env.setenv(key, value.format(**values))
        if bad.fsize is None:
            result = Grid(world.server, "test", capsys).run(bad.tool, *args)
        else:
            result = run_limited(bad.tool, args, tmp_path, bad.fsize)
    assert_one_error(result, bad.prefix or bad.tool, bad.code, bad.message)
    assert snapshot(world) == before, "a bad input changed the grid, the config or the token cache"
    assert _files(tmp_path) == {}, f"a bad input wrote files: {sorted(_files(tmp_path))}"
    return result


def run_limited(tool: str, args: list[str], cwd: Path, fsize: int) -> Result:
    """``tool args`` as a process on a "full disk": no file may grow beyond ``fsize`` bytes."""
    import resource
    import signal
    import subprocess
    import sys

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    proc = subprocess.run([str(Path(sys.executable).parent / tool), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, preexec_fn=limit, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_error(result: Result, tool: str, code: int, message: str) -> None:
    lines = result.err.splitlines()
    shown = f"exit {result.code}; stderr={result.err!r}; stdout={result.out[-500:]!r}"
    assert result.code == code, shown
    errors = [line for line in lines if line.startswith(f"{tool}: error: ")]
    others = [line for line in lines if not line.startswith((f"{tool}: error: ", f"{tool}: warning: "))]
    assert len(errors) == 1 and not others, shown  # one error line; warnings may come before it
    assert "Traceback" not in result.err + result.out and "internal error" not in result.err, shown
    assert message in errors[0], shown
