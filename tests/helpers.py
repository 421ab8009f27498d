"""Helpers for tests: log a user in through the real device flow, build clients."""

from __future__ import annotations

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
