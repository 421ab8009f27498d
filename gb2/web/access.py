"""Who may use the web view, and the headers every answer carries.

The view listens on 127.0.0.1, but every local account (and any web page the user
visits, through their browser) can reach a loopback port. So, as Jupyter does:

* the command prints a URL with a random token (256 bits, new at every start);
* a request carrying that token gets a session cookie (random, HttpOnly,
  SameSite=Strict, never the token itself) and is redirected to the same URL
  without the token, so the token does not stay in the address bar;
* any other request without a valid cookie gets 403, and so does a request whose
  Host header is not this server's own address (DNS rebinding);
* actions (POST) need a CSRF token bound to the session and, when the browser
  sends one, an Origin equal to this server's.

Answers forbid framing, sniffing, caching and sending a Referer to other sites (a
same-origin one keeps the Origin header of form posts), and allow only this server's
own scripts and styles.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import URL, Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse

COOKIE = "gb2web"
TOKEN_PARAM = "token"
MAX_SESSIONS = 64
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]  # fmt: skip
REFUSED = "gb2 web: refused. Open the address with the token that gb2_web printed.\n"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Access:
    """The URL token, the browser sessions it opened, and their CSRF tokens."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self.hosts: set[str] = set()  # accepted Host headers; set once the port is known
        self.origin: str | None = None
        self._sessions: dict[str, str] = {}  # session id -> CSRF token
        self._lock = threading.Lock()

    def bind(self, host: str, port: int) -> None:
        self.hosts = {f"{host}:{port}", f"localhost:{port}"}
        self.origin = f"http://{host}:{port}"

    def token_matches(self, value: str) -> bool:
        return hmac.compare_digest(value.encode(), self.token.encode())

    def open_session(self) -> str:
        session = secrets.token_urlsafe(32)
        with self._lock:
            while len(self._sessions) >= MAX_SESSIONS:  # the oldest browser has to log in again
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[session] = secrets.token_urlsafe(32)
        return session

    def known(self, session: str | None) -> bool:
        return bool(session) and session in self._sessions

    def csrf(self, session: str) -> str:
        return self._sessions.get(session, "")

    def csrf_ok(self, session: str, value: str | None, origin: str | None) -> bool:
        expected = self._sessions.get(session)
        if not expected or not value or not hmac.compare_digest(value.encode(), expected.encode()):
            return False
        return origin is None or origin == self.origin


class AccessGate:
    """ASGI middleware: lets in the token holder's browser only, and adds the security headers."""

    def __init__(self, app: App, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        response = self._refusal_or_login(scope)
        if response is not None:
            await response(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def _refusal_or_login(self, scope: Scope) -> Any:
        headers = Headers(scope=scope)
        if self.access.hosts and headers.get("host") not in self.access.hosts:
            return PlainTextResponse(REFUSED, status_code=403)
        request = Request(scope)
        token = request.query_params.get(TOKEN_PARAM)
        if token is not None:
            if not self.access.token_matches(token):
                return PlainTextResponse(REFUSED, status_code=403)
            target = URL(scope=scope).remove_query_params(TOKEN_PARAM)
            response = RedirectResponse(target.path + (f"?{target.query}" if target.query else ""), status_code=303)
            response.set_cookie(COOKIE, self.access.open_session(), httponly=True, samesite="strict", path="/")
            return response
        session = request.cookies.get(COOKIE)
        if not self.access.known(session):
            return PlainTextResponse(REFUSED, status_code=403)
        scope.setdefault("state", {})["web_session"] = session
        return None
