"""A tiny OpenID Connect provider standing in for Belle II's IAM in front of DiracX.

Run by realservers.py with the DiracX venv's python (it needs ``joserfc``)::

    python fake_idp.py --port P --client-id ID --users users.json --default-user alice

``users.json`` maps user names to IdP subjects: ``{"alice": "<sub>", "bob": "<sub>"}``.
The subjects are the ones registered under ``Registry/<vo>/Users`` in the DiracX
config, so DiracX accepts the ID tokens.

OIDC endpoints (what DiracX uses): ``/.well-known/openid-configuration``, ``/jwks``,
``/authorize`` (authorization-code flow with PKCE; it approves at once, there is no
login page) and ``/token`` (returns an RS256 ``id_token`` with ``iss``, ``aud`` = the
client id, ``sub``, ``iat``, ``exp``, ``preferred_username``, ``name``, ``email``).

Who logs in: the first of these that is set wins:

1. ``login_hint=<user>`` on the ``/authorize`` request (standard OIDC; a "browser"
   that walks the redirect chain itself can add it to the IdP URL);
2. the browser's IdP session cookie ``fake_idp_user=<user>`` (what a real browser
   that already logged in at the IdP sends).  ``GET /_login?username=<user>`` sets it,
   ``GET /_logout`` clears it; a test client may also just put the cookie in its jar
   for host 127.0.0.1 (cookies are not port-specific);
3. the one-shot choice made with ``POST /_next_user`` ``{"username": "bob"}``: the
   next ``/authorize`` without 1. or 2. is approved as bob, later ones as the default;
4. the default user: ``--default-user``, changed with ``POST /_default_user``
   ``{"username": ...}``.

``GET /_next_user`` shows the pending choice and default; ``DELETE /_next_user`` clears
the pending choice; ``GET /_logins`` lists the logins approved so far (newest last).
Unknown user names get HTTP 400.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.cookies
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import RSAKey

SESSION_COOKIE = "fake_idp_user"


class IdP:
    def __init__(self, issuer: str, client_id: str, users: dict[str, str], default_user: str):
        if default_user not in users:
            raise SystemExit(f"default user {default_user!r} not in {sorted(users)}")
        self.issuer = issuer
        self.client_id = client_id
        self.users = users
        self.default_user = default_user
        self.next_user: str | None = None
        self.key = RSAKey.generate_key(2048, parameters={"kid": "gb2-fake-idp", "alg": "RS256", "use": "sig"})
        self.codes: dict[str, dict] = {}
        self.logins: list[dict] = []
        self.lock = threading.Lock()

    def metadata(self) -> dict:
        iss = self.issuer
        return {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "jwks_uri": f"{iss}/jwks",
            "userinfo_endpoint": f"{iss}/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email"],
        }

    def choose_user(self, login_hint: str | None, session_user: str | None = None) -> str:
        with self.lock:
            if login_hint:
                user = login_hint
            elif session_user:
                user = session_user
            elif self.next_user:
                user, self.next_user = self.next_user, None
            else:
                user = self.default_user
        if user not in self.users:
            raise KeyError(user)
        return user

    def issue_code(self, user: str, query: dict) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"user": user, "query": query, "time": time.time()}
            self.logins.append({"username": user, "sub": self.users[user], "time": time.time(),
                                "client_id": query.get("client_id")})
        return code

    def redeem(self, form: dict) -> tuple[int, dict]:
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self.lock:
            entry = self.codes.pop(form.get("code", ""), None)
        if entry is None or time.time() - entry["time"] > 600:
            return 400, {"error": "invalid_grant", "error_description": "unknown or expired code"}
        query = entry["query"]
        if form.get("client_id", query.get("client_id")) != self.client_id:
            return 400, {"error": "invalid_client"}
        if query.get("redirect_uri") and form.get("redirect_uri") not in (None, query["redirect_uri"]):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        challenge = query.get("code_challenge")
        if challenge:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if digest.decode() != challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        user = entry["user"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": self.users[user],
            "iat": now,
            "exp": now + 600,
            "preferred_username": user,
            "name": user.capitalize(),
            "email": f"{user}@belle2.invalid",
        }
        if query.get("nonce"):
            claims["nonce"] = query["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return 200, {"id_token": id_token, "access_token": secrets.token_urlsafe(24),
                     "token_type": "Bearer", "expires_in": 600, "scope": query.get("scope", "openid")}


def make_handler(idp: IdP):
    class Handler(BaseHTTPRequestHandler):
        server_version = "gb2-fake-idp/1"

        def log_message(self, fmt, *args):  # one line per request, to the log file
            print(f"{self.address_string()} {fmt % args}", flush=True)

        def _session_user(self) -> str | None:
            jar = http.cookies.SimpleCookie()
            with contextlib.suppress(http.cookies.CookieError):
                jar.load(self.headers.get("Cookie") or "")
            morsel = jar.get(SESSION_COOKIE)
            return morsel.value if morsel is not None and morsel.value else None

        def _send(self, code: int, obj, cookie: str | None = None) -> None:
            body = json.dumps(obj).encode()
            self.send_response(code)
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> dict:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                return json.loads(raw or "{}")
            return dict(urllib.parse.parse_qsl(raw))

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/.well-known/openid-configuration":
                return self._send(200, idp.metadata())
            if url.path == "/jwks":
                return self._send(200, {"keys": [idp.key.as_dict(private=False)]})
            if url.path == "/authorize":
                if query.get("client_id") != idp.client_id:
                    return self._send(400, {"error": "invalid_client"})
                if query.get("response_type") != "code" or not query.get("redirect_uri"):
                    return self._send(400, {"error": "invalid_request"})
                try:
                    user = idp.choose_user(query.get("login_hint"), self._session_user())
                except KeyError as e:
                    return self._send(400, {"error": "unknown_user", "username": str(e)})
                code = idp.issue_code(user, query)
                params = {"code": code}
                if "state" in query:
                    params["state"] = query["state"]
                target = query["redirect_uri"]
                target += ("&" if "?" in target else "?") + urllib.parse.urlencode(params)
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if url.path == "/_login":
                username = query.get("username")
                if username not in idp.users:
                    return self._send(400, {"error": "unknown_user", "username": username})
                return self._send(200, {"logged_in": username},
                                  cookie=f"{SESSION_COOKIE}={username}; Path=/; HttpOnly")
            if url.path == "/_logout":
                return self._send(200, {"logged_in": None},
                                  cookie=f"{SESSION_COOKIE}=; Path=/; Max-Age=0")
            if url.path == "/_next_user":
                with idp.lock:
                    return self._send(200, {"next_user": idp.next_user, "default_user": idp.default_user})
            if url.path == "/_logins":
                with idp.lock:
                    return self._send(200, list(idp.logins))
            if url.path == "/_health":
                return self._send(200, {"status": "ok"})
            return self._send(404, {"error": "not_found"})

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/token":
                code, obj = idp.redeem(self._body())
                return self._send(code, obj)
            if path in ("/_next_user", "/_default_user"):
                username = self._body().get("username")
                if username not in idp.users:
                    return self._send(400, {"error": "unknown_user", "username": username,
                                            "known": sorted(idp.users)})
                with idp.lock:
                    if path == "/_next_user":
                        idp.next_user = username
                    else:
                        idp.default_user = username
                    return self._send(200, {"next_user": idp.next_user, "default_user": idp.default_user})
            return self._send(404, {"error": "not_found"})

        def do_DELETE(self):
            if urllib.parse.urlsplit(self.path).path == "/_next_user":
                with idp.lock:
                    idp.next_user = None
                    return self._send(200, {"next_user": None, "default_user": idp.default_user})
            return self._send(404, {"error": "not_found"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--users", required=True, help="JSON file {username: sub}")
    parser.add_argument("--default-user", required=True)
    args = parser.parse_args()
    with open(args.users) as f:
        users = json.load(f)
    idp = IdP(f"http://{args.host}:{args.port}", args.client_id, users, args.default_user)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(idp))
    server.daemon_threads = True
    print(f"fake IdP on {idp.issuer} for {sorted(users)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
