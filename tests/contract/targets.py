"""The contract targets: one interface over gb2's embedded server and the real servers.

Every contract test takes a ``dx`` (DiracX) or ``rucio`` target and drives it with
gb2's own clients; the same test body must pass against the embedded server and
against real DiracX 0.7 / Rucio 41. Where the real server's behaviour is a known
bug, ``target.real`` lets a test say so explicitly.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gb2.client.diracx import DiracX
from gb2.client.rucio import RucioClient
from gb2.client.tokens import TokenStore
from gb2.login import secret_approval


def run_id() -> str:
    """A suffix that keeps names unique on servers that live for the whole session."""
    return uuid.uuid4().hex[:8]


@dataclass
class DiracXTarget:
    """A DiracX-compatible server the tests can log users in to."""

    name: str  # "embedded" or "real"
    url: str
    idp_url: str | None  # real DiracX: the fake OIDC provider the browser goes through
    tmp: Path
    info: dict[str, Any] = field(default_factory=dict)
    login_secret: Path | None = None  # gb2's server: the owner's login secret file

    @property
    def real(self) -> bool:
        return self.name == "real"

    def browser(self, username: str) -> Callable[[dict[str, Any]], None]:
        """Approve a device flow as ``username``: what the user's browser does."""

        def approve(flow: dict[str, Any]) -> None:
            url = flow["verification_uri_complete"]
            if not self.real:  # gb2's server: its owner approves with the login secret
                assert self.login_secret is not None
                secret_approval(self.login_secret, username)(flow)
                return
            # Walk DiracX's redirects; at the identity provider's /authorize add OIDC's login_hint.
            with httpx.Client(timeout=30) as c:
                for _ in range(10):
                    if self.idp_url and url.startswith(f"{self.idp_url}/authorize"):
                        url += "&" + urllib.parse.urlencode({"login_hint": username})
                    response = c.get(url)
                    if not response.is_redirect:
                        response.raise_for_status()
                        return
                    url = str(response.url.join(response.headers["location"]))
            raise AssertionError("too many redirects in the device flow")

        return approve

    def login(self, username: str = "alice", group: str = "belle") -> DiracX:
        store = TokenStore(self.tmp / f"{self.name}-{username}-{group}-{run_id()}.json")
        dx = DiracX(self.url, store)
        dx.login(f"vo:belle group:{group}", self.browser(username), interval=0.1)
        return dx


@dataclass
class RucioTarget:
    """A Rucio-compatible catalogue with alice and bob, and TMP storage they may write to."""

    name: str
    url: str
    clients: dict[str, Callable[[], RucioClient]]
    user_rse: str
    other_rse: str
    file_scheme: str  # the scheme of the PFNs a download gets ("http" or "file")
    undertake: Callable[[], None]  # completes deletions (real Rucio: one undertaker pass)

    @property
    def real(self) -> bool:
        return self.name == "real"

    def client(self, username: str = "alice") -> RucioClient:
        return self.clients[username]()
