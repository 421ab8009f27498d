#!/usr/bin/env python3
"""Install, start and stop real DiracX 0.7.0 and Rucio 41.5.1 servers on loopback.

gb2's contract suite (tests/contract) runs gb2's client against these servers.  This
file is both a command-line tool and the importable API used by the pytest fixtures.
It needs only the Python standard library (any python3 >= 3.8 runs it); the servers
live in their own virtual environments, never in gb2's.

Commands::

    realservers.py install [diracx|rucio ...] [--force]   # venvs + PostgreSQL binaries
    realservers.py start   [diracx|rucio ...]             # fresh state, start, provision
    realservers.py stop    [diracx|rucio ...]             # kill what start started
    realservers.py status  [--json]                       # processes and health checks
    realservers.py env     [--json]                       # shell exports / full JSON
    realservers.py login   alice [--group belle_jobadmin] # DiracX device flow -> tokens
    realservers.py rucio-token alice                      # Rucio userpass -> token

State lives under ``$GB2_REAL_SERVERS_DIR`` (default ``~/.cache/gb2-real-servers``):
``venvs/{diracx,rucio}`` (kept between runs), ``diracx/`` and ``rucio/`` (recreated by
every ``start``), ``logs/`` and ``run/state.json`` (URLs, credentials, PIDs).  One user
of a state directory at a time: a second ``start`` on the same directory stops and
resets the first one's servers.  Use another ``GB2_REAL_SERVERS_DIR`` to run in parallel.

What runs (all bound to 127.0.0.1):

* DiracX: ``uvicorn --factory diracx.testing.routers:create_app`` (SQLite DBs, the
  sqlite-backed JobParametersDB mock), ``moto_server`` as the S3 sandbox store, and
  ``fake_idp.py`` as the OIDC identity provider; config = a local git repo.
* Rucio: gunicorn serving ``rucio.web.rest.flaskapi.v1.main:application`` on a
  throw-away PostgreSQL cluster (``initdb``/``pg_ctl``, run as the ``postgres`` user when
  this script runs as root), with the Belle II policy package in ``rucio_policy/``.

Ports: fixed uncommon defaults (28400-28404), each checked first; a busy one is replaced
by a free ephemeral port.  ``GB2_REAL_SERVERS_PORT_<NAME>`` (NAME = DIRACX, MOTO, IDP,
RUCIO, POSTGRES) forces a port.  See README.md beside this file for the configuration.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as _dt
import glob
import hashlib
import http.client as _httpclient
import http.cookiejar
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
COMPONENTS = ("diracx", "rucio")
DIRACX_VERSION = "0.7.0"
RUCIO_VERSION = "41.5.1"
MIN_SERVER_PYTHON = (3, 11)  # diracx 0.7 needs Python >= 3.11

# --------------------------------------------------------------------------- identities
VO = "belle"
DEFAULT_GROUP = "belle"
GROUPS: dict[str, list[str]] = {
    "belle": ["NormalUser"],
    "belle_jobadmin": ["NormalUser", "JobAdministrator"],
}
#: user -> DiracX groups and Rucio password (identity name = account name = user name)
USERS: dict[str, dict[str, Any]] = {
    "alice": {"groups": ["belle", "belle_jobadmin"], "password": "alice-secret"},
    "bob": {"groups": ["belle"], "password": "bob-secret"},
}
DEFAULT_LOGIN_USER = "alice"
#: Same derivation as gb2's embedded server (gb2/server/settings.py), so that token
#: subjects look alike on both servers: sub = "belle:" + uuid5(namespace, username).
SUB_NAMESPACE = uuid.UUID("6f1b7c9e-3c0d-4f51-9a53-b3d2f0a1c8e4")
DIRACX_CLIENT_ID = "myDIRACClientID"  # DiracX's public client id (device flow)
IDP_CLIENT_ID = "gb2-contract-tests"  # DiracX's client id at the fake IdP
SANDBOX_BUCKET = "sandboxes"
S3_KEY = S3_SECRET = "testing"  # moto accepts any

RUCIO_ROOT = {"account": "root", "username": "ddmlab", "password": "gb2-root-secret"}
#: Scopes owned by root: every scope Belle II's extract_scope rule can yield for
#: official or shared paths (user.<name> scopes are created per user below).
RUCIO_ROOT_SCOPES = ("mc", "mc_tmp", "data", "data_tmp", "raw", "hraw", "user", "group",
                     "test", "collection", "other")
#: Containers (scope ``other``, owned by root) at the top of the Belle II namespace.
TOP_CONTAINERS = ("/belle", "/belle/user", "/belle/group", "/belle/MC", "/belle/Data")
#: RSEs: two user-writable TMP storages (gb2's names) and one official DATA storage.
RSES: dict[str, dict[str, Any]] = {
    "KEK-TMP-DISK-SE": {"kind": "TMP", "site": "LCG.KEK.jp", "city": "Tsukuba", "country": "JP"},
    "DESY-TMP-SE": {"kind": "TMP", "site": "LCG.DESY.de", "city": "Hamburg", "country": "DE"},
    "KEK-DATA-SE": {"kind": "DATA", "site": "LCG.KEK.jp", "city": "Tsukuba", "country": "JP"},
}
USER_QUOTA_BYTES = 10 ** 13  # 10 TB on each TMP RSE for alice and bob
ROOT_QUOTA_BYTES = 10 ** 15

DEFAULT_PORTS = {"diracx": 28400, "moto": 28401, "idp": 28402, "rucio": 28403, "postgres": 28404}

_TIMEOUTS = {"moto": 60.0, "idp": 60.0, "diracx": 120.0, "rucio": 120.0}


def user_sub(username: str) -> str:
    """The IdP subject of a user (DiracX tokens carry ``belle:<this>``)."""
    return str(uuid.uuid5(SUB_NAMESPACE, username))


class RealServerError(RuntimeError):
    """Something could not be installed, started or provisioned."""


def _say(msg: str) -> None:
    print(f"[realservers] {msg}", file=sys.stderr, flush=True)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------- HTTP (stdlib)
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_OPENER_NOREDIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http_request(method: str, url: str, *, headers: Optional[dict] = None, json_body: Any = None,
                 form: Optional[dict] = None, timeout: float = 30.0,
                 follow_redirects: bool = True) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request; returns (status, headers, body) and never raises on HTTP errors."""
    data = None
    hdrs = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    opener = _OPENER if follow_redirects else _OPENER_NOREDIRECT
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()) if e.headers else {}, e.read() or b""


def _json(body: bytes) -> Any:
    return json.loads(body.decode() or "null")


# --------------------------------------------------------------------------- processes
def _proc_stat(pid: int) -> Optional[list[str]]:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ..." — comm may contain spaces/parentheses
    rest = raw[raw.rfind(")") + 2:].split()
    return rest  # rest[0] = state, rest[19] = starttime (field 22)


def _start_ticks(pid: int) -> Optional[str]:
    st = _proc_stat(pid)
    return st[19] if st and len(st) > 19 else None


def _alive(pid: int, ticks: Optional[str] = None) -> bool:
    """True if ``pid`` is running (not a zombie) and, if given, started at ``ticks``."""
    st = _proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return ticks is None or st[19] == ticks


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_port(avoid: Iterable[int]) -> int:
    avoid = set(avoid)
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port
    raise RealServerError("could not find a free port")


def _each_in_a_thread(verb: str, components: list[str], action: Callable[[str], object],
                      ) -> tuple[dict[str, float], dict[str, BaseException]]:  # fmt: skip
    """Run ``action`` for every component at once; (seconds taken, errors) per component."""
    timings: dict[str, float] = {}
    errors: dict[str, BaseException] = {}

    def work(component: str) -> None:
        t0 = time.monotonic()
        try:
            action(component)
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            errors[component] = e
        timings[component] = round(time.monotonic() - t0, 1)

    threads = [threading.Thread(target=work, args=(c,), name=f"{verb}-{c}") for c in components]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, errors


def _choose_ports(names: Iterable[str], avoid: Iterable[int] = ()) -> dict[str, int]:
    chosen: dict[str, int] = {}
    taken = set(avoid)
    for name in names:
        forced = os.environ.get(f"GB2_REAL_SERVERS_PORT_{name.upper()}")
        if forced:
            port = int(forced)
            if not _port_free(port):
                raise RealServerError(f"port {port} (GB2_REAL_SERVERS_PORT_{name.upper()}) is busy")
        elif DEFAULT_PORTS[name] not in taken and _port_free(DEFAULT_PORTS[name]):
            port = DEFAULT_PORTS[name]
        else:
            port = _ephemeral_port(taken)
        chosen[name] = port
        taken.add(port)
    return chosen


def _server_env(venv: Path, extra: dict[str, str]) -> dict[str, str]:
    """Environment for a server process: no leakage of gb2's venv or of DIRACX_/RUCIO_ vars."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DIRACX_", "RUCIO_", "PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


# --------------------------------------------------------------------------- the manager
class RealServers:
    """Install/start/stop the real servers; all state under ``root``."""

    def __init__(self, root: Optional[os.PathLike] = None,
                 log: Callable[[str], None] = _say) -> None:
        default = Path(os.environ.get("GB2_REAL_SERVERS_DIR") or
                       Path.home() / ".cache" / "gb2-real-servers")
        self.root = Path(root or default).expanduser().resolve()
        self.log = log
        self.state_file = self.root / "run" / "state.json"
        self.logs = self.root / "logs"
        self._lock = threading.Lock()
        self._children: dict[int, subprocess.Popen] = {}

    # ------------------------------------------------------------------ paths / state
    def venv(self, component: str) -> Path:
        return self.root / "venvs" / component

    def python(self, component: str) -> Path:
        return self.venv(component) / "bin" / "python"

    def load_state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    def _update_state(self, component: str, **values: Any) -> None:
        with self._lock:
            state = self.load_state()
            state.setdefault(component, {}).update(values)
            self._save_state(state)

    def _record_process(self, component: str, rec: dict[str, Any]) -> None:
        with self._lock:
            state = self.load_state()
            state.setdefault(component, {}).setdefault("processes", []).append(rec)
            self._save_state(state)

    # ------------------------------------------------------------------ install
    @staticmethod
    def _fingerprint(component: str) -> str:
        """Hash of the pins: a venv is up to date if its marker carries the same hash."""
        h = hashlib.sha256()
        for name in (f"requirements-{component}.txt", f"constraints-{component}.txt"):
            h.update((HERE / name).read_bytes())
        return h.hexdigest()

    def _base_python(self) -> str:
        python = os.environ.get("GB2_REAL_SERVERS_PYTHON") or sys.executable
        try:
            out = subprocess.run([python, "-c", "import sys;print('%d.%d.%d' % sys.version_info[:3])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as e:
            raise RealServerError(f"cannot run {python}: {e}") from e
        if tuple(int(x) for x in out.split(".")[:2]) < MIN_SERVER_PYTHON:
            raise RealServerError(
                f"{python} is Python {out}; the servers need >= 3.11 "
                "(set GB2_REAL_SERVERS_PYTHON to a newer interpreter)")
        return python

    def installed(self, component: str) -> bool:
        marker = self.venv(component) / ".gb2-realservers.json"
        try:
            info = json.loads(marker.read_text())
        except (OSError, ValueError):
            return False
        # exists() follows the venv's python symlink: False if the base interpreter is gone
        return self.python(component).exists() and info.get("fingerprint") == self._fingerprint(component)

    def install(self, components: Iterable[str] = COMPONENTS, force: bool = False) -> dict[str, float]:
        """Create the server venvs (pinned) and make sure PostgreSQL exists.  Idempotent."""
        components = _check_components(components)
        timings: dict[str, float] = {}
        if "rucio" in components:
            t0 = time.monotonic()
            self._ensure_postgres()
            timings["postgres"] = round(time.monotonic() - t0, 1)
        todo = [c for c in components if force or not self.installed(c)]
        for c in components:
            if c not in todo:
                self.log(f"{c}: venv already installed at the pinned versions ({self.venv(c)})")
        if not todo:
            return timings
        python = self._base_python()
        done, errors = _each_in_a_thread("install", todo, lambda c: self._install_venv(c, python))
        timings.update(done)
        if errors:
            raise RealServerError("; ".join(f"{c}: {e}" for c, e in errors.items()))
        return timings

    def _install_venv(self, component: str, python: str) -> None:
        venv = self.venv(component)
        log_path = self.logs / f"install-{component}.log"
        self.logs.mkdir(parents=True, exist_ok=True)
        if venv.exists():
            shutil.rmtree(venv)
        venv.parent.mkdir(parents=True, exist_ok=True)
        self.log(f"{component}: creating {venv} and installing the pinned server packages")
        with open(log_path, "w") as logf:
            steps = [
                [python, "-m", "venv", str(venv)],
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                 "--no-input", "-r", str(HERE / f"requirements-{component}.txt"),
                 "-c", str(HERE / f"constraints-{component}.txt")],
            ]
            for argv in steps:
                logf.write(f"$ {shlex.join(argv)}\n")
                logf.flush()
                rc = subprocess.call(argv, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=_install_env())
                if rc != 0:
                    raise RealServerError(
                        f"`{shlex.join(argv[:4])} ...` failed (exit {rc}); log {log_path}:\n{_tail(log_path)}")
        marker = {"fingerprint": self._fingerprint(component), "python": python,
                  "installed_at": _now()}
        (venv / ".gb2-realservers.json").write_text(json.dumps(marker, indent=2))
        self.log(f"{component}: installed")

    # ------------------------------------------------------------------ PostgreSQL
    @staticmethod
    def find_pg_bin() -> Optional[Path]:
        forced = os.environ.get("GB2_REAL_SERVERS_PGBIN")
        if forced:
            return Path(forced)
        cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                       key=lambda p: [int(x) for x in Path(p).parent.name.split(".") if x.isdigit()])
        for cand in reversed(cands):
            if (Path(cand) / "initdb").exists() and (Path(cand) / "pg_ctl").exists():
                return Path(cand)
        initdb = shutil.which("initdb")
        return Path(initdb).parent if initdb else None

    def _ensure_postgres(self) -> None:
        if self.find_pg_bin():
            return
        self.log("PostgreSQL server binaries not found; installing Debian's `postgresql`")
        if os.geteuid() == 0:
            prefix: list[str] = []
        elif shutil.which("sudo") and subprocess.call(["sudo", "-n", "true"],
                                                      stdout=subprocess.DEVNULL,
                                                      stderr=subprocess.DEVNULL) == 0:
            prefix = ["sudo", "-n"]
        else:
            raise RealServerError("PostgreSQL is not installed and this user cannot run apt-get; "
                                  "install it with: sudo apt-get install -y postgresql")
        if not shutil.which("apt-get"):
            raise RealServerError("PostgreSQL is not installed and apt-get is not available")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log_path = self.logs / "install-postgresql.log"
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w") as logf:
            for argv in (prefix + ["apt-get", "update"],
                         prefix + ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
                rc = subprocess.call(argv, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
                if rc != 0:
                    raise RealServerError(f"`{shlex.join(argv)}` failed; log {log_path}:\n{_tail(log_path)}")
        if not self.find_pg_bin():
            raise RealServerError("apt-get installed postgresql but no initdb/pg_ctl was found")

    def _pg_dir(self) -> Path:
        """Where the cluster lives: the postgres user must be able to reach it."""
        if os.geteuid() != 0:
            return self.root / "rucio-pg"
        tag = hashlib.sha1(str(self.root).encode()).hexdigest()[:10]
        return Path("/tmp") / f"gb2-real-servers-pg-{tag}"

    @staticmethod
    def _as_pg_user(argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _pg_stop(self, pg: dict[str, Any]) -> None:
        pgdata = Path(pg["pgdata"])
        if not (pgdata / "postmaster.pid").exists():
            return
        argv = self._as_pg_user([str(Path(pg["pgbin"]) / "pg_ctl"), "-D", str(pgdata), "-m", "fast",
                                 "-w", "-t", "30", "stop"])
        rc = subprocess.call(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if rc != 0 and (pgdata / "postmaster.pid").exists():
            # last resort: the postmaster's pid from its own pid file
            with contextlib.suppress(OSError, ValueError):
                pid = int((pgdata / "postmaster.pid").read_text().split()[0])
                if _alive(pid):
                    os.kill(pid, signal.SIGQUIT)

    # ------------------------------------------------------------------ start / stop
    def start(self, components: Iterable[str] = COMPONENTS) -> dict[str, Any]:
        """Stop what runs, reset the state of ``components``, start and provision them.

        Returns the info of every running component (see :meth:`info`).
        """
        components = _check_components(components)
        missing = [c for c in components if not self.installed(c)]
        if missing:
            raise RealServerError(f"not installed: {', '.join(missing)} (run `realservers.py install`)")
        self.stop(components)
        self.logs.mkdir(parents=True, exist_ok=True)
        other_ports = [p for c, s in self.load_state().items() if c not in components
                       for p in (s.get("ports") or {}).values()]
        names = [n for c in components for n in (("diracx", "moto", "idp") if c == "diracx"
                                                 else ("rucio", "postgres"))]
        ports = _choose_ports(names, avoid=other_ports)
        starters = {"diracx": self._start_diracx, "rucio": self._start_rucio}
        timings, errors = _each_in_a_thread("start", components, lambda c: starters[c](ports))
        if errors:
            with contextlib.suppress(Exception):
                self.stop(components)
            raise RealServerError("; ".join(f"{c}: {e}" for c, e in errors.items()))
        for c in components:
            self._update_state(c, start_seconds=timings[c])
        return self.info()

    def _spawn(self, component: str, name: str, argv: list[str], env: dict[str, str],
               log_path: Path) -> subprocess.Popen:
        with open(log_path, "ab") as logf:
            logf.write(f"--- {_now()} $ {shlex.join(argv)}\n".encode())
            logf.flush()
            proc = subprocess.Popen(argv, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(self.root))
        self._children[proc.pid] = proc
        self._record_process(component, {"name": name, "pid": proc.pid, "ticks": _start_ticks(proc.pid),
                                         "argv": argv[:4], "log": str(log_path)})
        return proc

    def _wait_http(self, name: str, url: str, proc: Optional[subprocess.Popen], log_path: Path,
                   timeout: float, ok: Callable[[int], bool] = lambda s: s == 200) -> float:
        t0 = time.monotonic()
        last = "no answer"
        while time.monotonic() - t0 < timeout:
            if proc is not None and proc.poll() is not None:
                raise RealServerError(f"{name} exited with code {proc.returncode}; log {log_path}:\n"
                                      f"{_tail(log_path)}")
            try:
                status, _, body = http_request("GET", url, timeout=5)
                if ok(status):
                    return time.monotonic() - t0
                last = f"HTTP {status} {body[:200]!r}"
            except (OSError, _httpclient.HTTPException) as e:
                last = str(e)
            time.sleep(0.2)
        raise RealServerError(f"{name} not ready at {url} after {timeout:.0f}s ({last}); log {log_path}:\n"
                              f"{_tail(log_path)}")

    # ---- DiracX
    def _diracx_spec(self, state_dir: Path, idp_url: str, global_jobs_info: bool) -> dict[str, Any]:
        return {
            "state_dir": str(state_dir), "vo": VO, "default_group": DEFAULT_GROUP, "groups": GROUPS,
            "users": {u: {"sub": user_sub(u), "groups": spec["groups"]} for u, spec in USERS.items()},
            "idp_url": idp_url, "idp_client_id": IDP_CLIENT_ID, "global_jobs_info": global_jobs_info,
        }

    def _run_setup(self, spec: dict[str, Any], log_path: Path) -> dict[str, Any]:
        proc = subprocess.run([str(self.python("diracx")), str(HERE / "diracx_setup.py")],
                              input=json.dumps(spec), capture_output=True, text=True,
                              env=_server_env(self.venv("diracx"), {}), cwd=str(self.root))
        with open(log_path, "a") as logf:
            logf.write(proc.stderr)
        if proc.returncode != 0:
            raise RealServerError(f"diracx_setup.py failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def _start_diracx(self, ports: dict[str, int]) -> None:
        d = self.root / "diracx"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        venv = self.venv("diracx")
        url = f"http://127.0.0.1:{ports['diracx']}"
        s3_url = f"http://127.0.0.1:{ports['moto']}"
        idp_url = f"http://127.0.0.1:{ports['idp']}"
        logs = {n: self.logs / f"{n}.log" for n in ("diracx-setup", "moto", "fake-idp", "diracx")}
        for p in logs.values():
            p.write_text("")
        self._update_state("diracx", ports={k: ports[k] for k in ("diracx", "moto", "idp")},
                           processes=[], running=False, started_at=_now())
        t0 = time.monotonic()
        out = self._run_setup(self._diracx_spec(d, idp_url, True), logs["diracx-setup"])
        setup_s = time.monotonic() - t0

        raw = secrets.token_bytes(32)
        legacy_key = base64.urlsafe_b64encode(raw).decode()
        state_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # a Fernet key
        (d / "legacy_key.b64").write_text(legacy_key + "\n")
        users_file = d / "idp_users.json"
        users_file.write_text(json.dumps({u: user_sub(u) for u in USERS}))

        env = {
            "DIRACX_CONFIG_BACKEND_URL": f"git+file://{d / 'cs'}",
            "DIRACX_SERVICE_AUTH_TOKEN_KEYSTORE": f"file://{d / 'keystore' / 'jwks.json'}",
            "DIRACX_SERVICE_AUTH_STATE_KEY": state_key,
            "DIRACX_SERVICE_AUTH_TOKEN_ISSUER": url,
            "DIRACX_SERVICE_AUTH_ALLOWED_REDIRECTS": json.dumps([f"{url}/api/docs/oauth2-redirect"]),
            "DIRACX_SANDBOX_STORE_BUCKET_NAME": SANDBOX_BUCKET,
            "DIRACX_SANDBOX_STORE_AUTO_CREATE_BUCKET": "true",
            "DIRACX_SANDBOX_STORE_S3_CLIENT_KWARGS": json.dumps(
                {"endpoint_url": s3_url, "aws_access_key_id": S3_KEY, "aws_secret_access_key": S3_SECRET}),
            "DIRACX_LEGACY_EXCHANGE_HASHED_API_KEY": hashlib.sha256(raw).hexdigest(),
            "DIRACX_URL": url,
            "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
        }
        env.update(out["db_env"])
        (d / "server.env").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items())))
        senv = _server_env(venv, env)
        moto = self._spawn("diracx", "moto", [str(venv / "bin" / "moto_server"), "-H", "127.0.0.1",
                                              "-p", str(ports["moto"])], senv, logs["moto"])
        idp = self._spawn("diracx", "fake-idp", [str(venv / "bin" / "python"), str(HERE / "fake_idp.py"),
                                                 "--port", str(ports["idp"]), "--client-id", IDP_CLIENT_ID,
                                                 "--users", str(users_file),
                                                 "--default-user", DEFAULT_LOGIN_USER], senv, logs["fake-idp"])
        self._wait_http("moto", f"{s3_url}/", moto, logs["moto"], _TIMEOUTS["moto"])
        t1 = time.monotonic()
        dx = self._spawn("diracx", "uvicorn", [str(venv / "bin" / "uvicorn"), "--factory",
                                               "diracx.testing.routers:create_app", "--host", "127.0.0.1",
                                               "--port", str(ports["diracx"]), "--log-level", "info"],
                         senv, logs["diracx"])
        self._wait_http("fake IdP", f"{idp_url}/_health", idp, logs["fake-idp"], _TIMEOUTS["idp"])
        self._wait_http("DiracX", f"{url}/api/health/ready", dx, logs["diracx"], _TIMEOUTS["diracx"])
        uvicorn_s = time.monotonic() - t1
        info = {
            "url": url, "s3_url": s3_url, "idp_url": idp_url, "vo": VO, "default_group": DEFAULT_GROUP,
            "groups": GROUPS, "client_id": DIRACX_CLIENT_ID, "idp_client_id": IDP_CLIENT_ID,
            "users": {u: {"sub": user_sub(u), "token_sub": f"{VO}:{user_sub(u)}", "groups": s["groups"]}
                      for u, s in USERS.items()},
            "default_login_user": DEFAULT_LOGIN_USER,
            "legacy_key": legacy_key, "sandbox_bucket": SANDBOX_BUCKET,
            "s3_credentials": {"aws_access_key_id": S3_KEY, "aws_secret_access_key": S3_SECRET},
            "global_jobs_info": True, "cs_repo": str(d / "cs"), "cs_revision": out["cs_revision"],
            "server_env": str(d / "server.env"), "logs": {k: str(v) for k, v in logs.items()},
        }
        self._update_state("diracx", info=info, running=True,
                           phase_seconds={"setup": round(setup_s, 2), "uvicorn_ready": round(uvicorn_s, 2)})
        self.log(f"diracx: ready at {url} (S3 {s3_url}, IdP {idp_url})")

    def set_global_jobs_info(self, value: bool, timeout: float = 30.0) -> None:
        """Flip ``Operations/belle/Services/JobMonitoring/GlobalJobsInfo`` on the running DiracX."""
        info = self.info()["diracx"]
        spec = self._diracx_spec(self.root / "diracx", info["idp_url"], value)
        spec["update_only"] = True
        self._run_setup(spec, self.logs / "diracx-setup.log")
        token = diracx_legacy_token(info, DEFAULT_LOGIN_USER)["access_token"]
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            status, _, body = http_request("GET", f"{info['url']}/api/config/",
                                   headers={"Authorization": f"Bearer {token}"})
            if status == 200:
                ops = _json(body).get("Operations", {}).get(VO, {})
                if ops.get("Services", {}).get("JobMonitoring", {}).get("GlobalJobsInfo") == value:
                    info["global_jobs_info"] = value
                    self._update_state("diracx", info=info)
                    return
            time.sleep(0.3)
        raise RealServerError(f"DiracX did not pick up GlobalJobsInfo={value} within {timeout}s")

    # ---- Rucio
    def _start_rucio(self, ports: dict[str, int]) -> None:
        r = self.root / "rucio"
        pg_root = self._pg_dir()
        pgbin = self.find_pg_bin()
        if pgbin is None:
            raise RealServerError("PostgreSQL server binaries not found (run `realservers.py install rucio`)")
        for path in (r, pg_root):
            if path.exists():
                shutil.rmtree(path)
        (r / "etc").mkdir(parents=True)
        venv = self.venv("rucio")
        url = f"http://127.0.0.1:{ports['rucio']}"
        logs = {n: self.logs / f"{n}.log" for n in ("postgres-setup", "rucio-bootstrap", "rucio")}
        for p in logs.values():
            p.write_text("")
        pg = {"pgbin": str(pgbin), "pgdata": str(pg_root / "data"), "port": ports["postgres"]}
        self._update_state("rucio", ports={k: ports[k] for k in ("rucio", "postgres")}, processes=[],
                           postgres=pg, running=False, started_at=_now())
        phases: dict[str, float] = {}

        # 1. throw-away PostgreSQL cluster
        t0 = time.monotonic()
        pg_root.mkdir(parents=True)
        sock = pg_root / "sock"
        sock.mkdir()
        pglog = pg_root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(pg_root, "postgres", "postgres")
            shutil.chown(sock, "postgres", "postgres")
        with open(logs["postgres-setup"], "a") as logf:
            def run(argv: list[str], what: str) -> None:
                logf.write(f"$ {shlex.join(argv)}\n")
                logf.flush()
                if subprocess.call(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd="/") != 0:
                    raise RealServerError(f"{what} failed; log {logs['postgres-setup']}:\n{_tail(logs['postgres-setup'])}")

            run(self._as_pg_user([str(pgbin / "initdb"), "-D", pg["pgdata"], "-U", "postgres",
                                  "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]), "initdb")
            opts = (f"-c listen_addresses=127.0.0.1 -p {ports['postgres']} -k {shlex.quote(str(sock))} -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
            run(self._as_pg_user([str(pgbin / "pg_ctl"), "-D", pg["pgdata"], "-l", str(pglog), "-w",
                                  "-t", "60", "-o", opts, "start"]), "pg_ctl start")
            psql = pgbin / "psql" if (pgbin / "psql").exists() else Path(shutil.which("psql") or "psql")
            run([str(psql), "-h", "127.0.0.1", "-p", str(ports["postgres"]), "-U", "postgres", "-d", "postgres",
                 "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE ROLE rucio LOGIN PASSWORD 'rucio-secret'",
                 "-c", "CREATE DATABASE rucio OWNER rucio"], "creating the rucio role and database")
        phases["postgres"] = round(time.monotonic() - t0, 2)

        # 2. configuration from the templates
        db_url = f"postgresql+psycopg://rucio:rucio-secret@127.0.0.1:{ports['postgres']}/rucio"
        site = glob.glob(str(venv / "lib" / "python3*" / "site-packages" / "rucio"))
        if not site:
            raise RealServerError(f"rucio package not found in {venv}")
        values = {
            "LOGDIR": str(self.logs), "DB_URL": db_url, "ROOT_USERNAME": RUCIO_ROOT["username"],
            "ROOT_PASSWORD": RUCIO_ROOT["password"], "ALEMBIC_INI": str(r / "etc" / "alembic.ini"),
            "MIGRATE_REPO": str(Path(site[0]) / "db" / "sqla" / "migrate_repo"),
        }
        for template, target in (("rucio.cfg.in", r / "etc" / "rucio.cfg"),
                                 ("alembic.ini.in", r / "etc" / "alembic.ini")):
            text = (HERE / template).read_text()
            for key, value in values.items():
                text = text.replace(f"@{key}@", value)
            target.write_text(text)
        senv = _server_env(venv, {"RUCIO_CONFIG": str(r / "etc" / "rucio.cfg"), "RUCIO_HOME": str(r),
                                  "PYTHONPATH": str(HERE / "rucio_policy")})

        # 3. schema + root account
        t0 = time.monotonic()
        with open(logs["rucio-bootstrap"], "a") as logf:
            rc = subprocess.call([str(venv / "bin" / "python"), str(HERE / "rucio_bootstrap.py")], env=senv,
                                 stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(r))
        if rc != 0:
            raise RealServerError(f"Rucio bootstrap failed; log {logs['rucio-bootstrap']}:\n"
                                  f"{_tail(logs['rucio-bootstrap'])}")
        phases["bootstrap"] = round(time.monotonic() - t0, 2)

        # 4. the REST server
        t0 = time.monotonic()
        gun = self._spawn("rucio", "gunicorn", [
            str(venv / "bin" / "gunicorn"), "-b", f"127.0.0.1:{ports['rucio']}", "-w", "2", "--threads", "4",
            "--timeout", "120", "--graceful-timeout", "5", "--access-logfile", "-",
            "rucio.web.rest.flaskapi.v1.main:application"], senv, logs["rucio"])
        self._wait_http("Rucio", f"{url}/ping", gun, logs["rucio"], _TIMEOUTS["rucio"])
        phases["gunicorn_ready"] = round(time.monotonic() - t0, 2)

        # 5. accounts, scopes, RSEs, limits (plain REST as root)
        t0 = time.monotonic()
        rse_info = self._provision_rucio(url, r / "rse")
        phases["provision"] = round(time.monotonic() - t0, 2)
        info = {
            "url": url, "root": dict(RUCIO_ROOT),
            "accounts": {u: {"account": u, "username": u, "password": s["password"], "scope": f"user.{u}"}
                         for u, s in USERS.items()},
            "rses": rse_info, "root_scopes": list(RUCIO_ROOT_SCOPES),
            "top_containers": {"scope": "other", "names": list(TOP_CONTAINERS)},
            "scopes": {**{s: "root" for s in RUCIO_ROOT_SCOPES}, **{f"user.{u}": u for u in USERS}},
            "db_url": db_url, "config": str(r / "etc" / "rucio.cfg"),
            "policy_package": str(HERE / "rucio_policy" / "gb2_belle2_rucio_policy"),
            "logs": {k: str(v) for k, v in logs.items()}, "postgres_log": str(pglog),
        }
        self._update_state("rucio", info=info, running=True, phase_seconds=phases)
        self.log(f"rucio: ready at {url} (PostgreSQL on port {ports['postgres']})")

    def _provision_rucio(self, url: str, rse_root: Path) -> dict[str, Any]:
        token = rucio_token({"url": url}, RUCIO_ROOT["account"], RUCIO_ROOT["username"], RUCIO_ROOT["password"])

        def call(method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200, 201)) -> None:
            status, headers, data = http_request(method, url + path, json_body=body,
                                         headers={"X-Rucio-Auth-Token": token})
            if status not in expect:
                raise RealServerError(f"Rucio {method} {path} -> {status}: {data[:300]!r}")

        for user, spec in USERS.items():
            call("POST", f"/accounts/{user}", {"type": "USER", "email": f"{user}@belle2.invalid"})
            call("POST", f"/accounts/{user}/identities",
                 {"identity": user, "authtype": "USERPASS", "email": f"{user}@belle2.invalid",
                  "password": spec["password"], "default": True})
        for scope in RUCIO_ROOT_SCOPES:
            call("POST", f"/scopes/root/{scope}")
        for user in USERS:
            call("POST", f"/scopes/{user}/user.{user}")
        # The top of Belle II's namespace exists in production; POST /dirac/addfiles creates
        # the missing containers of an LFN's path but needs an existing top (it fails with
        # an IndexError when it has to create /belle itself).
        for name in TOP_CONTAINERS:
            call("POST", f"/dids/other/{urllib.parse.quote(name, safe='')}", {"type": "CONTAINER"})
        call("POST", "/dids/attachments", {"attachments": [
            {"scope": "other", "name": "/belle",
             "dids": [{"scope": "other", "name": n} for n in TOP_CONTAINERS if n != "/belle"]}]})
        info: dict[str, Any] = {}
        for rse, spec in RSES.items():
            prefix = rse_root / rse
            prefix.mkdir(parents=True, exist_ok=True)
            call("POST", f"/rses/{rse}", {"deterministic": True, "volatile": False, "rse_type": "DISK",
                                          "city": spec["city"], "country_name": spec["country"]})
            call("POST", f"/rses/{rse}/protocols/file", {
                "scheme": "file", "hostname": "localhost", "port": 0, "prefix": f"{prefix}/",
                "impl": "rucio.rse.protocols.posix.Default",
                "domains": {"lan": {"read": 1, "write": 1, "delete": 1},
                            "wan": {"read": 1, "write": 1, "delete": 1,
                                    "third_party_copy_read": 1, "third_party_copy_write": 1}}})
            attrs = {"ANY": True, "site": spec["site"], "storage_kind": spec["kind"],
                     "user_writable": spec["kind"] == "TMP"}
            for key, value in attrs.items():
                call("POST", f"/rses/{rse}/attr/{key}", {"value": value})
            call("POST", f"/accounts/root/limits/local/{rse}", {"bytes": ROOT_QUOTA_BYTES})
            if spec["kind"] == "TMP":
                for user in USERS:
                    call("POST", f"/accounts/{user}/limits/local/{rse}", {"bytes": USER_QUOTA_BYTES})
            info[rse] = {"prefix": str(prefix), "pfn_prefix": f"file://localhost{prefix}/", "scheme": "file",
                         "kind": spec["kind"], "user_writable": spec["kind"] == "TMP", "site": spec["site"],
                         "attributes": attrs}
        return info

    # ------------------------------------------------------------------ stop / status / info
    def run_rucio_daemon(self, name: str, *args: str) -> None:
        """Run one Rucio daemon once (e.g. ``rucio-undertaker``) in the server's environment.

        Nothing runs Rucio's daemons in the background here; tests call this where real
        Rucio's behaviour depends on one (deletion needs the undertaker).
        """
        venv = self.venv("rucio")
        r = self.root / "rucio"
        env = _server_env(venv, {"RUCIO_CONFIG": str(r / "etc" / "rucio.cfg"), "RUCIO_HOME": str(r),
                                 "PYTHONPATH": str(HERE / "rucio_policy")})
        proc = subprocess.run([str(venv / "bin" / name), "--run-once", *args], env=env, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RealServerError(f"{name} --run-once failed (exit {proc.returncode}): {proc.stderr[-2000:]}")

    def stop(self, components: Optional[Iterable[str]] = None) -> dict[str, float]:
        """Stop the processes (and the PostgreSQL cluster) that ``start`` started."""
        state = self.load_state()
        components = _check_components(components or [c for c in COMPONENTS if c in state])
        timings: dict[str, float] = {}
        for component in components:
            t0 = time.monotonic()
            cstate = state.get(component, {})
            for rec in reversed(cstate.get("processes", [])):
                self._kill(rec)
            if component == "rucio":
                pg = cstate.get("postgres")
                if pg:
                    self._pg_stop(pg)
                elif self.find_pg_bin() and (self._pg_dir() / "data").exists():
                    self._pg_stop({"pgbin": str(self.find_pg_bin()), "pgdata": str(self._pg_dir() / "data")})
                self._drop_pg_dir_outside_state()
            if cstate:
                self._update_state(component, processes=[], running=False, stopped_at=_now())
            timings[component] = round(time.monotonic() - t0, 2)
        return timings

    def _drop_pg_dir_outside_state(self) -> None:
        """Remove a stopped cluster kept in /tmp (root case), keeping its server log."""
        pg_root = self._pg_dir()
        if self.root in pg_root.parents or not pg_root.exists():
            return
        if (pg_root / "data" / "postmaster.pid").exists():
            return  # still running: never delete a live cluster
        with contextlib.suppress(OSError):
            self.logs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pg_root / "postgres.log", self.logs / "postgresql-server.log")
        shutil.rmtree(pg_root, ignore_errors=True)

    def _kill(self, rec: dict[str, Any], timeout: float = 15.0) -> None:
        pid, ticks = rec["pid"], rec.get("ticks")
        child = self._children.pop(pid, None)
        if _alive(pid, ticks):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
            t0 = time.monotonic()
            while _alive(pid, ticks) and time.monotonic() - t0 < timeout:
                if child is not None and child.poll() is not None:
                    break
                time.sleep(0.05)
            if _alive(pid, ticks):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
        # leftovers of the group (e.g. gunicorn workers) once the leader we started is gone
        if not _alive(pid, ticks):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def info(self) -> dict[str, Any]:
        """Info of every running component: ``{"diracx": {...}, "rucio": {...}}``."""
        state = self.load_state()
        return {c: state[c]["info"] for c in COMPONENTS if state.get(c, {}).get("running") and "info" in state[c]}

    def status(self) -> dict[str, Any]:
        state = self.load_state()
        out: dict[str, Any] = {"state_dir": str(self.root)}
        for c in COMPONENTS:
            cs = state.get(c, {})
            entry: dict[str, Any] = {"installed": self.installed(c), "running": bool(cs.get("running")),
                                     "ports": cs.get("ports")}
            entry["processes"] = {p["name"]: {"pid": p["pid"], "alive": _alive(p["pid"], p.get("ticks"))}
                                  for p in cs.get("processes", [])}
            info = cs.get("info")
            if cs.get("running") and info:
                checks = ({"diracx": info["url"] + "/api/health/ready", "moto": info["s3_url"] + "/",
                           "idp": info["idp_url"] + "/_health"} if c == "diracx" else {"rucio": info["url"] + "/ping"})
                entry["health"] = {}
                for name, u in checks.items():
                    try:
                        entry["health"][name] = http_request("GET", u, timeout=3)[0]
                    except OSError as e:
                        entry["health"][name] = str(e)
                if c == "rucio":
                    pg = cs["postgres"]
                    rc = subprocess.call(self._as_pg_user([str(Path(pg["pgbin"]) / "pg_ctl"), "-D", pg["pgdata"],
                                                           "status"]),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    entry["health"]["postgres"] = "running" if rc == 0 else "down"
            for key in ("start_seconds", "phase_seconds", "started_at", "stopped_at"):
                if key in cs:
                    entry[key] = cs[key]
            out[c] = entry
        return out

    def shell_env(self) -> dict[str, str]:
        """Flat variables describing the running servers (``env`` prints them as exports)."""
        info = self.info()
        env = {"GB2_REAL_SERVERS_DIR": str(self.root), "GB2_REAL_SERVERS_STATE": str(self.state_file)}
        if "diracx" in info:
            d = info["diracx"]
            env.update({"GB2_REAL_DIRACX_URL": d["url"], "GB2_REAL_DIRACX_S3_URL": d["s3_url"],
                        "GB2_REAL_DIRACX_IDP_URL": d["idp_url"], "GB2_REAL_DIRACX_VO": d["vo"],
                        "GB2_REAL_DIRACX_LEGACY_KEY": d["legacy_key"],
                        "GB2_REAL_DIRACX_CLIENT_ID": d["client_id"]})
        if "rucio" in info:
            rr = info["rucio"]
            env.update({"GB2_REAL_RUCIO_URL": rr["url"], "GB2_REAL_RUCIO_ROOT_ACCOUNT": rr["root"]["account"],
                        "GB2_REAL_RUCIO_ROOT_USERNAME": rr["root"]["username"],
                        "GB2_REAL_RUCIO_ROOT_PASSWORD": rr["root"]["password"],
                        "GB2_REAL_RUCIO_RSES": ",".join(rr["rses"])})
            for u, a in rr["accounts"].items():
                env[f"GB2_REAL_RUCIO_{u.upper()}_PASSWORD"] = a["password"]
            for rse, spec in rr["rses"].items():
                env[f"GB2_REAL_RUCIO_RSE_{rse.replace('-', '_')}_PREFIX"] = spec["prefix"]
        return env


def _check_components(components: Optional[Iterable[str]]) -> list[str]:
    out = list(dict.fromkeys(components or ()))
    bad = [c for c in out if c not in COMPONENTS]
    if bad:
        raise RealServerError(f"unknown component(s) {bad}; choose from {list(COMPONENTS)}")
    return out


def _install_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    env.setdefault("PIP_DEFAULT_TIMEOUT", "120")
    return env


# --------------------------------------------------------------------------- client helpers
def diracx_device_login(info: dict[str, Any], username: Optional[str] = None, group: Optional[str] = None,
                        scope: Optional[str] = None, via: str = "login_hint",
                        timeout: float = 30.0) -> dict[str, Any]:
    """Log in to DiracX with the OAuth2 device flow, approving at the fake IdP as ``username``.

    ``via="login_hint"`` walks the browser redirect chain itself and adds
    ``login_hint=<username>`` to the IdP's ``/authorize`` URL (safe with concurrent logins);
    ``via="cookie"`` logs in at the IdP first (``GET <idp>/_login?username=...`` sets the IdP
    session cookie) and then follows redirects with that cookie, like a browser with an IdP
    session (safe with concurrent logins too);
    ``via="next_user"`` first does ``POST <idp>/_next_user`` and then just follows redirects,
    as a real browser opening ``verification_uri_complete`` would.
    Returns DiracX's TokenResponse (access_token, refresh_token, expires_in, token_type).
    """
    base = info["url"]
    scope = scope or f"vo:{info['vo']}" + (f" group:{group}" if group else "")
    status, _, body = http_request("POST", f"{base}/api/auth/device?" + urllib.parse.urlencode(
        {"client_id": info["client_id"], "scope": scope}), timeout=timeout)
    if status != 200:
        raise RealServerError(f"POST /api/auth/device -> {status}: {body[:300]!r}")
    flow = _json(body)
    if via == "cookie":
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        try:
            if username:
                opener.open(f"{info['idp_url']}/_login?" + urllib.parse.urlencode({"username": username}),
                            timeout=timeout).read()
            with opener.open(flow["verification_uri_complete"], timeout=timeout) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read() or b""
    elif via == "next_user":
        if username:
            s, _, b = http_request("POST", f"{info['idp_url']}/_next_user", json_body={"username": username})
            if s != 200:
                raise RealServerError(f"fake IdP /_next_user -> {s}: {b[:200]!r}")
        status, _, body = http_request("GET", flow["verification_uri_complete"], timeout=timeout)
    elif via == "login_hint":
        url = flow["verification_uri_complete"]
        idp = urllib.parse.urlsplit(info["idp_url"])
        for _ in range(10):
            parts = urllib.parse.urlsplit(url)
            if username and parts.netloc == idp.netloc and parts.path == "/authorize":
                url += ("&" if parts.query else "?") + urllib.parse.urlencode({"login_hint": username})
            status, headers, body = http_request("GET", url, timeout=timeout, follow_redirects=False)
            location = {k.lower(): v for k, v in headers.items()}.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                url = urllib.parse.urljoin(url, location)
                continue
            break
    else:
        raise ValueError(f"unknown via={via!r}")
    if status != 200:
        raise RealServerError(f"device-flow browser step ended with HTTP {status}: {body[:300]!r}")
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": flow["device_code"], "client_id": info["client_id"]}
    t0 = time.monotonic()
    while True:
        status, _, body = http_request("POST", f"{base}/api/auth/token", form=form, timeout=timeout)
        if status == 200:
            return _json(body)
        if b"authorization_pending" in body and time.monotonic() - t0 < timeout:
            time.sleep(0.5)
            continue
        raise RealServerError(f"POST /api/auth/token -> {status}: {body[:300]!r}")


def diracx_legacy_token(info: dict[str, Any], username: str, group: Optional[str] = None,
                        timeout: float = 30.0) -> dict[str, Any]:
    """A DiracX TokenResponse through the legacy exchange (no browser, no IdP)."""
    scope = f"vo:{info['vo']}" + (f" group:{group}" if group else "")
    url = f"{info['url']}/api/auth/legacy-exchange?" + urllib.parse.urlencode(
        {"preferred_username": username, "scope": scope})
    t0 = time.monotonic()
    while True:
        status, _, body = http_request("GET", url, headers={"Authorization": f"Bearer diracx:legacy:{info['legacy_key']}"})
        if status == 200:
            return _json(body)
        if status == 503 and time.monotonic() - t0 < timeout:  # config cache warming up
            time.sleep(0.3)
            continue
        raise RealServerError(f"legacy exchange for {username} -> {status}: {body[:300]!r}")


def rucio_token(info: dict[str, Any], account: str, username: Optional[str] = None,
                password: Optional[str] = None) -> str:
    """A Rucio token (``X-Rucio-Auth-Token``) by userpass; defaults from ``info``."""
    if username is None or password is None:
        creds = info["root"] if account == "root" else info["accounts"][account]
        username, password = creds["username"], creds["password"]
    status, headers, body = http_request("GET", f"{info['url']}/auth/userpass", headers={
        "X-Rucio-Account": account, "X-Rucio-Username": username, "X-Rucio-Password": password})
    token = {k.lower(): v for k, v in headers.items()}.get("x-rucio-auth-token")
    if status != 200 or not token:
        raise RealServerError(f"Rucio userpass for {account} -> {status}: {body[:300]!r}")
    return token


# --------------------------------------------------------------------------- CLI
def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="realservers.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", help="state directory (default $GB2_REAL_SERVERS_DIR or "
                                      "~/.cache/gb2-real-servers)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install", help="create the server venvs (skips ones already at the pins)")
    p.add_argument("components", nargs="*", default=[], help="diracx and/or rucio (default: both)")
    p.add_argument("--force", action="store_true", help="reinstall even if up to date")
    for name, text in (("start", "reset state and start (installs first if needed)"),
                       ("stop", "stop everything start started")):
        p = sub.add_parser(name, help=text)
        p.add_argument("components", nargs="*", default=[], help="diracx and/or rucio (default: both)")
    p = sub.add_parser("status", help="processes and health checks")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("env", help="shell exports (or --json: everything) for the running servers")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("login", help="DiracX device flow through the fake IdP; prints the tokens")
    p.add_argument("user", choices=sorted(USERS))
    p.add_argument("--group")
    p.add_argument("--via", choices=["login_hint", "cookie", "next_user"], default="login_hint")
    p = sub.add_parser("rucio-token", help="Rucio userpass token for an account")
    p.add_argument("account", choices=["root", *sorted(USERS)])
    args = parser.parse_args(argv)
    rs = RealServers(args.dir)
    try:
        if args.cmd == "install":
            t0 = time.monotonic()
            timings = rs.install(args.components or COMPONENTS, force=args.force)
            _say(f"install done in {time.monotonic() - t0:.1f}s {timings}")
        elif args.cmd == "start":
            comps = args.components or COMPONENTS
            rs.install(comps)
            t0 = time.monotonic()
            rs.start(comps)
            _say(f"started {', '.join(comps)} in {time.monotonic() - t0:.1f}s; "
                 f"`{Path(sys.argv[0]).name} env` shows URLs and credentials")
        elif args.cmd == "stop":
            t0 = time.monotonic()
            timings = rs.stop(args.components or None)
            _say(f"stopped {timings} in {time.monotonic() - t0:.1f}s")
        elif args.cmd == "status":
            st = rs.status()
            if args.json:
                print(json.dumps(st, indent=2))
            else:
                for c in COMPONENTS:
                    e = st[c]
                    procs = ", ".join(f"{n}:{'up' if v['alive'] else 'DOWN'}({v['pid']})"
                                      for n, v in e["processes"].items()) or "-"
                    print(f"{c:7s} installed={e['installed']} running={e['running']} ports={e['ports']} "
                          f"processes=[{procs}] health={e.get('health', '-')}")
        elif args.cmd == "env":
            if args.json:
                print(json.dumps(rs.info(), indent=2))
            else:
                for k, v in rs.shell_env().items():
                    print(f"export {k}={shlex.quote(v)}")
        elif args.cmd == "login":
            print(json.dumps(diracx_device_login(rs.info()["diracx"], args.user, args.group, via=args.via),
                             indent=2))
        elif args.cmd == "rucio-token":
            print(rucio_token(rs.info()["rucio"], args.account))
    except (RealServerError, KeyError) as e:
        _say(f"ERROR: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
