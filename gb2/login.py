"""Logging in and out: what gb2_proxy_init, gb2_proxy_info and gb2_proxy_destroy do.

gbasf2 makes an X.509 proxy; gb2 gets OAuth2 tokens from DiracX through the device
flow and caches them (0600) per profile. On the embedded profile the identity
provider is this machine, so the login is approved at once for the local user.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from gb2 import LOGIN_SECRET_HEADER, VO
from gb2.client.http import Api, raise_for_response
from gb2.client.tokens import claims
from gb2.errors import AuthError, BadInput, Forbidden, Gb2Error, RequestRefused, ServerUnreachable
from gb2.session import Session

LIFETIME_RE = re.compile(r"^(\d{1,4}):([0-5]\d)$")


def parse_lifetime(text: str) -> int:
    """gbasf2's ``-v HH:MM`` as seconds."""
    m = LIFETIME_RE.match(text.strip())
    if not m:
        raise BadInput(f"invalid validity {text!r}: expected HH:MM, e.g. 24:00")
    seconds = int(m.group(1)) * 3600 + int(m.group(2)) * 60
    if seconds <= 0:
        raise BadInput("the requested validity must be positive")
    return seconds


def hhmmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass
class ProxyInfo:
    """The cached login, as gbasf2's proxy field block shows it."""

    profile: str
    server: str
    path: Path
    username: str
    group: str
    properties: list[str]
    subject: str
    issuer: str
    seconds_left: float  # validity of the login (refresh token, capped by -v)
    access_seconds_left: float
    requested_seconds: int | None = None  # what -v asked for, if anything

    def fields(self) -> list[tuple[str, str]]:
        return [
            ("subject", self.subject),
            ("issuer", self.issuer),
            ("identity", f"{self.username}@{VO}"),
            ("timeleft", hhmmss(self.seconds_left)),
            ("DIRAC group", self.group),
            ("path", str(self.path)),
            ("username", self.username),
            ("properties", ", ".join(self.properties)),
            ("VO", VO),
            ("credential", "OAuth2 tokens (DiracX), no X.509 proxy"),
            ("server", f"{self.server} (profile {self.profile})"),
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "server": self.server,
            "path": str(self.path),
            "username": self.username,
            "group": self.group,
            "properties": self.properties,
            "vo": VO,
            "subject": self.subject,
            "issuer": self.issuer,
            "timeleft": hhmmss(self.seconds_left),
            "timeleft_seconds": int(self.seconds_left),
            "access_token_seconds": int(self.access_seconds_left),
        }


def proxy_info(session: Session) -> ProxyInfo | None:
    """The cached login of the session's profile, without any network call."""
    data = session.tokens.load()
    if not data:
        return None
    access = claims(data["access_token"])
    now = time.time()
    refresh_left = (data.get("refresh_expires_at") or 0) - now
    access_left = float(data.get("expires_at", 0)) - now
    left = max(refresh_left, access_left, 0.0)
    if data.get("valid_until"):
        left = min(left, max(float(data["valid_until"]) - now, 0.0))
        access_left = min(access_left, left)
    return ProxyInfo(
        profile=session.profile.name,
        server=str(data.get("server") or session.diracx_url),
        path=session.tokens.path,
        username=str(access.get("preferred_username", "")),
        group=str(access.get("dirac_group", "")),
        properties=list(access.get("dirac_properties", [])),
        subject=str(access.get("sub", "")),
        issuer=str(access.get("iss", "")),
        seconds_left=left,
        access_seconds_left=max(access_left, 0.0),
        requested_seconds=data.get("requested_lifetime"),
    )


def read_login_secret(path: Path) -> str:
    """The gb2 server's login secret; only its owner's account can read it."""
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise AuthError(f"cannot read the server's login secret {path}: {exc.strerror or exc}") from None


def secret_approval(secret_file: Path, username: str | None = None) -> Callable[[dict[str, Any]], None]:
    """On a gb2 server this machine is the identity provider: approve the login ourselves,
    proving with the server's login secret that we are its owner (``username``: another
    user configured on that server)."""

    def approve(flow: dict[str, Any]) -> None:
        url = flow["verification_uri_complete"]
        if username:
            url += "&" + urlencode({"login_hint": username})
        headers = {LOGIN_SECRET_HEADER: read_login_secret(secret_file)}
        idp = Api("the embedded identity provider", url)
        for attempt in (1, 2):
            try:  # the answer is a redirect to a "close the window" page: no need to follow it
                response = idp.request("GET", url, idempotent=False, auth=False, check=False, headers=headers)
            except ServerUnreachable:
                if attempt == 2:
                    raise
                continue  # perhaps approved, perhaps not: ask again
            if response.status_code < 400:
                return
            if attempt == 2 and response.status_code == 400:
                return  # the first approval went through and only its answer was lost: the poll will tell
            if response.status_code >= 500 and attempt == 1:
                continue
            raise_for_response("the embedded identity provider", response)

    return approve


def login(
    session: Session,
    group: str,
    *,
    show: Callable[[dict[str, Any]], None],
    lifetime_seconds: int | None = None,
    interval: float = 5.0,
    username: str | None = None,
) -> ProxyInfo:
    """Device-flow login; ``show`` tells the user where to approve (real servers).

    On a gb2 server (the embedded profile, or a profile with ``login_secret_file``)
    the login is approved with the server's login secret, as ``username`` if given.
    """
    scope = f"vo:{VO} group:{group}"
    secret_file = session.profile.login_secret
    if secret_file is not None:
        approve = secret_approval(secret_file, username)
        interval = 0.05
    elif username:
        raise BadInput("--user works only on a gb2 server (the embedded profile, or a profile with a login secret file)")
    else:
        approve = show
    extra = {"group": group, "profile": session.profile.name}
    if lifetime_seconds:
        # The server sets the token lifetimes; -v can only shorten the login, and gb2 enforces it.
        extra["requested_lifetime"] = lifetime_seconds
        extra["valid_until"] = time.time() + lifetime_seconds
    try:
        session.diracx.login(scope, approve, interval=interval, **extra)
    except (Forbidden, RequestRefused) as exc:
        if exc.status_code is not None and exc.status_code >= 500:
            raise
        raise AuthError(f"login refused: {exc}") from None  # an unknown user or group: exit 3, as any refused login
    info = proxy_info(session)
    assert info is not None
    return info


def logout(session: Session) -> tuple[bool, bool]:
    """(revoked on the server, cache deleted). A server that cannot be reached does not stop the deletion."""
    revoked = False
    try:
        revoked = session.diracx.revoke()
    except Gb2Error:
        revoked = False
    return revoked, session.tokens.delete()
