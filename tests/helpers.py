"""Helpers for tests: log a user in through the real device flow, build clients."""

from __future__ import annotations

from pathlib import Path

import httpx

from gb2.client.diracx import DiracX
from gb2.client.tokens import TokenStore


def browser_approval(username: str | None = None):
    """The 'browser' of the device flow: open the verification URL as ``username``."""

    def approve(flow: dict) -> None:
        url = flow["verification_uri_complete"] + (f"&login_hint={username}" if username else "")
        httpx.get(url, follow_redirects=True).raise_for_status()

    return approve


def login(url: str, username: str, tmp_path, group: str = "belle") -> DiracX:
    """A DiracX client logged in as ``username`` with its own token cache."""
    store = TokenStore(tmp_path / f"tokens-{username}-{group}.json")
    dx = DiracX(url, store)
    dx.login(f"vo:belle group:{group}", browser_approval(username), interval=0.05)
    return dx


def jdl(name: str = "job", group: str = "proj", executable: str = "/bin/echo", arguments: str = "hello", **extra) -> str:
    attrs = {"Executable": executable, "Arguments": arguments, "JobName": name, "JobGroup": group, **extra}
    from gb2 import jdl as codec

    return codec.dumps(attrs)


def flaky_steering(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """A steering file whose first run fails and whose later runs write ``pions.root``."""
    marker = tmp_path / "first-attempt-done"
    steering = tmp_path / "flaky.py"
    steering.write_text(
        "import os, basf2, modularAnalysis as ma\n"
        f"if not os.path.exists({str(marker)!r}):\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "    raise RuntimeError('transient failure')\n"
        "main = basf2.create_path()\n"
        "ma.inputMdstList(filelist=['x.root'], path=main)\n"
        "ma.fillParticleList('pi+:all', '', path=main)\n"
        "ma.variablesToNtuple('pi+:all', ['p'], filename='pions.root', path=main)\n"
        "basf2.process(main)\n"
    )
    return steering
