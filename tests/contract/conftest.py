"""Fixtures for the contract suite: real DiracX 0.7.0 and Rucio 41.5.1 servers.

The servers are installed (in their own venvs, once) and started (fresh state) by
``tests/contract/realservers/realservers.py``, at most once per pytest session and
per component, and stopped at the end of the session.  If anything cannot be
installed or started the tests that use them FAIL (``pytest.fail``); nothing here skips.

Run the suite alone with::

    .venv/bin/pytest -m contract tests/contract

(``-m contract`` is needed: pyproject's addopts deselect the contract marker by default.)

Environment knobs: ``GB2_REAL_SERVERS_DIR`` (state + venvs, default
``~/.cache/gb2-real-servers``), ``GB2_REAL_SERVERS_KEEP=1`` (leave the servers running
after the session, for debugging; stop them with ``realservers.py stop``), the port
overrides described in realservers.py.  Every test under tests/contract gets the
``contract`` marker.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CONTRACT_DIR = Path(__file__).resolve().parent
REALSERVERS_PY = CONTRACT_DIR / "realservers" / "realservers.py"


def _load_realservers():
    name = "gb2_contract_realservers"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REALSERVERS_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


realservers = _load_realservers()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if CONTRACT_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.contract)


# --------------------------------------------------------------------------- fixture objects
@dataclass
class RealDiracX:
    """A running real DiracX 0.7.0 (+ moto S3 + fake OIDC IdP)."""

    info: dict[str, Any]
    url: str = field(init=False)
    s3_url: str = field(init=False)
    idp_url: str = field(init=False)
    vo: str = field(init=False)
    client_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.info["url"]
        self.s3_url = self.info["s3_url"]
        self.idp_url = self.info["idp_url"]
        self.vo = self.info["vo"]
        self.client_id = self.info["client_id"]

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        """``{"alice": {"sub", "token_sub", "groups"}, "bob": {...}}``."""
        return self.info["users"]

    def login(self, username: str = "alice", group: str | None = None, *, scope: str | None = None,
              via: str = "login_hint") -> dict[str, Any]:
        """Device flow through the fake IdP as ``username``; returns DiracX's TokenResponse.

        ``via`` picks how the fake IdP learns the user: ``login_hint`` (added at the IdP
        hop of the redirect chain), ``cookie`` (IdP session cookie) or ``next_user``
        (``POST /_next_user`` before following the redirects); see realservers/README.md.
        """
        return realservers.diracx_device_login(self.info, username, group, scope=scope, via=via)

    def legacy_token(self, username: str = "alice", group: str | None = None) -> dict[str, Any]:
        """TokenResponse from the legacy exchange (no browser, handy for setting up state)."""
        return realservers.diracx_legacy_token(self.info, username, group)

    def set_next_login(self, username: str) -> None:
        """Make the next browser login at the fake IdP (``POST /_next_user``) be ``username``.

        For flows driven by gb2's own client: the test plays the browser by opening
        ``verification_uri_complete`` and following redirects.
        """
        status, _, body = realservers.http_request(
            "POST", f"{self.idp_url}/_next_user", json_body={"username": username})
        if status != 200:
            raise AssertionError(f"fake IdP refused next user {username!r}: {status} {body!r}")

    def set_global_jobs_info(self, value: bool) -> None:
        """Change GlobalJobsInfo in the live config (default True = DiracX/DIRAC default)."""
        _manager().set_global_jobs_info(value)
        self.info["global_jobs_info"] = value


@dataclass
class RucioAccount:
    account: str
    username: str
    password: str
    scope: str | None = None


@dataclass
class RealRucio:
    """A running real Rucio 41.5.1 (gunicorn + PostgreSQL) with Belle II conventions."""

    info: dict[str, Any]
    url: str = field(init=False)
    root: RucioAccount = field(init=False)
    alice: RucioAccount = field(init=False)
    bob: RucioAccount = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.info["url"]
        r = self.info["root"]
        self.root = RucioAccount(r["account"], r["username"], r["password"])
        self.accounts = {name: RucioAccount(**a) for name, a in self.info["accounts"].items()}
        self.alice = self.accounts["alice"]
        self.bob = self.accounts["bob"]

    @property
    def rses(self) -> dict[str, dict[str, Any]]:
        """``{name: {"prefix", "pfn_prefix", "kind", "user_writable", ...}}``."""
        return self.info["rses"]

    @property
    def rse_names(self) -> list[str]:
        return list(self.info["rses"])

    @property
    def user_rses(self) -> list[str]:
        """RSEs where alice and bob may write (the TMP ones)."""
        return [n for n, s in self.info["rses"].items() if s["user_writable"]]

    def prefix(self, rse: str) -> Path:
        return Path(self.info["rses"][rse]["prefix"])

    def token(self, account: str = "alice") -> str:
        return realservers.rucio_token(self.info, account)

    def run_daemon(self, name: str) -> None:
        """One pass of a Rucio daemon, e.g. ``rucio-undertaker`` (deletion of expired DIDs)."""
        _manager().run_rucio_daemon(name)


# --------------------------------------------------------------------------- fixtures
_MANAGER = None


def _manager():
    global _MANAGER
    if _MANAGER is None:
        _MANAGER = realservers.RealServers()
    return _MANAGER


def _bring_up(request: pytest.FixtureRequest, component: str) -> dict[str, Any]:
    rs = _manager()
    t0 = t1 = time.monotonic()
    error = None
    try:
        rs.install([component])
        t1 = time.monotonic()
        info = rs.start([component])[component]
    except Exception as e:  # noqa: BLE001 - turned into a test failure below
        error = f"{type(e).__name__}: {e}"
    if error is not None:
        pytest.fail(f"real {component} server could not be installed/started: {error}\n"
                    f"(state and logs under {rs.root})", pytrace=False)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"[contract] real {component}: install check {t1 - t0:.1f}s, "
                            f"start {time.monotonic() - t1:.1f}s, {info['url']}")

    def stop() -> None:
        if os.environ.get("GB2_REAL_SERVERS_KEEP") == "1":
            return
        rs.stop([component])

    request.addfinalizer(stop)
    return info


@pytest.fixture(scope="session")
def real_diracx(request: pytest.FixtureRequest) -> RealDiracX:
    """Real DiracX 0.7.0: VO belle, groups belle/belle_jobadmin, users alice and bob."""
    return RealDiracX(_bring_up(request, "diracx"))


@pytest.fixture(scope="session")
def real_rucio(request: pytest.FixtureRequest) -> RealRucio:
    """Real Rucio 41.5.1: accounts root/alice/bob, Belle II scopes, three POSIX RSEs."""
    return RealRucio(_bring_up(request, "rucio"))


# --------------------------------------------------------------------------- contract targets
# Each contract test runs against gb2's embedded server and against the real server.


@pytest.fixture(scope="session")
def embedded_grid(tmp_path_factory: pytest.TempPathFactory):
    """gb2's embedded server with its engine off: jobs stay where the tests put them."""
    from gb2.server.runner import EmbeddedServer
    from gb2.server.settings import ServerSettings, User

    settings = ServerSettings(
        data_dir=tmp_path_factory.mktemp("embedded"),
        run_engine=False,
        max_jobs_per_submission=20,  # DiracX 0.7's limit, which the wire comparisons check
        users=[User("alice", ("belle", "belle_jobadmin"), "alice-secret"), User("bob", ("belle",), "bob-secret")],
    )
    server = EmbeddedServer(settings).start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["embedded", "real"])
def dx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from tests.contract.targets import DiracXTarget

    tmp = tmp_path_factory.mktemp(f"dx-{request.param}")
    if request.param == "embedded":
        server = request.getfixturevalue("embedded_grid")
        return DiracXTarget("embedded", server.url, None, tmp, login_secret=server.settings.login_secret_path)
    real = request.getfixturevalue("real_diracx")
    return DiracXTarget("real", real.url, real.idp_url, tmp, real.info)


@pytest.fixture(scope="session", params=["embedded", "real"])
def rucio(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from gb2.client.rucio import RucioClient
    from tests.contract.targets import DiracXTarget, RucioTarget

    if request.param == "embedded":
        server = request.getfixturevalue("embedded_grid")
        login = DiracXTarget("embedded", server.url, None, tmp_path_factory.mktemp("rucio-embedded"),
                             login_secret=server.settings.login_secret_path)
        tokens = {name: login.login(name) for name in ("alice", "bob")}
        clients = {name: (lambda dx=dx: RucioClient(f"{server.url}/rucio", token=dx.access_token))
                   for name, dx in tokens.items()}  # fmt: skip
        return RucioTarget("embedded", f"{server.url}/rucio", clients, "KEK-TMP-DISK-SE", "DESY-TMP-SE", "http",
                           lambda: None)  # the embedded catalogue deletes expired DIDs at once
    real = request.getfixturevalue("real_rucio")
    accounts = {"alice": real.alice, "bob": real.bob}
    clients = {
        name: (lambda a=a: RucioClient(real.url, account=a.account, username=a.username, password=a.password))
        for name, a in accounts.items()
    }
    first, second = real.user_rses[:2]
    return RucioTarget("real", real.url, clients, first, second, "file", lambda: real.run_daemon("rucio-undertaker"))
