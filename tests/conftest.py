"""Shared fixtures: an embedded server on 127.0.0.1 with real HTTP, isolated user dirs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gb2.server.runner import EmbeddedServer
from gb2.server.settings import ServerSettings, User

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config, cache and data dirs; retries are quick."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("GB2_CONFIG_DIR", "config"), ("GB2_CACHE_DIR", "cache"), ("GB2_DATA_DIR", "data")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("GB2_RETRIES", os.environ.get("GB2_TEST_RETRIES", "3"))
    monkeypatch.setenv("GB2_RETRY_WAIT", "0.05")
    return home


ServerFactory = Callable[..., EmbeddedServer]


@pytest.fixture
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """Start embedded servers with custom settings; all are stopped at the end."""
    started: list[EmbeddedServer] = []

    def start(data_dir: Path | None = None, **overrides) -> EmbeddedServer:
        overrides.setdefault("users", [User("alice", ("belle", "belle_jobadmin")), User("bob")])
        overrides.setdefault("run_engine", False)
        settings = ServerSettings(data_dir=data_dir or tmp_path_factory.mktemp("server"), **overrides)
        srv = EmbeddedServer(settings).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def server(server_factory: ServerFactory) -> EmbeddedServer:
    """An embedded server without the engine (jobs are accepted, not run)."""
    return server_factory()


def device_login(server: EmbeddedServer, username: str | None = None, scope: str = "vo:belle group:belle") -> dict:
    """The DiracX device flow over HTTP, approved by the server's owner as ``username``
    (the IdP's login_hint, with the login secret)."""
    from gb2 import LOGIN_SECRET_HEADER

    url = server.url
    secret = server.settings.login_secret_path.read_text().strip()
    with httpx.Client() as c:
        r = c.post(f"{url}/api/auth/device", params={"client_id": "myDIRACClientID", "scope": scope})
        r.raise_for_status()
        flow = r.json()
        approve = flow["verification_uri_complete"] + (f"&login_hint={username}" if username else "")
        c.get(approve, headers={LOGIN_SECRET_HEADER: secret}, follow_redirects=True).raise_for_status()
        r = c.post(
            f"{url}/api/auth/token",
            data={"grant_type": DEVICE_GRANT, "device_code": flow["device_code"], "client_id": "myDIRACClientID"},
        )
        r.raise_for_status()
        return r.json()


@pytest.fixture
def grid(server_factory, capsys):
    """A grid with its engine behind a remote profile "test", alice logged in."""
    from tests.cli import FAST, Grid, add_remote_profile

    srv = server_factory(run_engine=True, workers=2, **FAST)
    add_remote_profile("test", srv)
    g = Grid(srv, "test", capsys)
    g.login("alice")
    return g
