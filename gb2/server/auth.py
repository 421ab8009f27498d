"""Token authority of the embedded server: DiracX-shaped JWTs signed with Ed25519.

Access tokens carry DiracX's claims (sub, vo, dirac_group, preferred_username,
dirac_properties, dirac_policies, jti, exp, iss) and are checked for signature and
expiry on every request. Refresh tokens are JWTs too, tracked in the database so
they can be rotated and revoked, and reuse of a revoked one revokes the whole
login, as DiracX does.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from jwt.algorithms import OKPAlgorithm

from gb2.server import keys
from gb2.server.db import Database
from gb2.server.settings import ServerSettings, User

# DiracX (joserfc) names the algorithm "Ed25519" in the JWT header, not "EdDSA".
ALGORITHM = "Ed25519"
#: Tokens whose signature was checked, remembered until they expire (cleared when this many).
VERIFIED_CACHE = 4096
try:
    jwt.register_algorithm(ALGORITHM, OKPAlgorithm())
except ValueError:  # already registered in this process
    pass

SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
    jti TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    username TEXT NOT NULL,
    scope TEXT NOT NULL,
    status INTEGER NOT NULL,          -- 1 active, 2 revoked
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_refresh_sub ON auth_refresh_tokens(sub);
CREATE TABLE IF NOT EXISTS auth_device_flows (
    device_code TEXT PRIMARY KEY,
    user_code TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,             -- pending, ready, done
    username TEXT,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rucio_tokens (
    token TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    identity TEXT NOT NULL,
    expires REAL NOT NULL
);
"""

ACTIVE, REVOKED = 1, 2


class AuthFailure(Exception):
    """A request's credentials are missing, invalid or insufficient."""

    def __init__(self, detail: str, status_code: int = 401) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


@dataclass(frozen=True)
class AuthorizedUser:
    """Who is calling, as read from a verified access token."""

    sub: str
    vo: str
    group: str
    properties: tuple[str, ...]
    username: str
    jti: str

    @property
    def is_job_admin(self) -> bool:
        return "JobAdministrator" in self.properties


@dataclass(frozen=True)
class Scope:
    vo: str
    group: str
    properties: tuple[str, ...]


class Authority:
    """Issues and verifies tokens for the embedded server."""

    def __init__(self, settings: ServerSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.issuer = ""  # set once the server knows its URL
        self._key, self.kid = keys.signing_key(settings.data_dir / "keys")
        self._public = self._key.public_key()
        self._login_secret = keys.secret(settings.login_secret_path)
        self._verified: dict[str, dict] = {}  # token -> its claims, signature checked (see _decode)

    # -- keys -------------------------------------------------------------------------
    def jwks(self) -> dict:
        jwk = json.loads(OKPAlgorithm.to_jwk(self._public))
        jwk.update({"alg": ALGORITHM, "kid": self.kid, "key_ops": ["sign", "verify"]})
        return {"keys": [jwk]}

    def _sign(self, payload: dict) -> str:
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def _decode(self, token: str) -> dict:
        """The claims of a token this server signed. A token whose signature was checked once is
        remembered until it expires (the expiry is checked at every use): a job wrapper sends
        the same token with each of its requests, and checking an Ed25519 signature costs more
        than the rest of a small request."""
        known = self._verified.get(token)
        if known is not None:
            if known["exp"] <= time.time():
                raise AuthFailure("Token expired")
            return known
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "jti"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthFailure("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthFailure("Invalid JWT") from exc
        if isinstance(claims.get("exp"), (int, float)):
            if len(self._verified) >= VERIFIED_CACHE:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    # -- scopes -----------------------------------------------------------------------
    def parse_scope(self, scope: str, user: User | None = None) -> Scope:
        """``vo:<vo> [group:<g>] [property:<P> ...]`` as DiracX reads it."""
        vo, group, props = None, None, []
        for item in scope.split():
            kind, _, value = item.partition(":")
            if kind == "vo":
                vo = value
            elif kind == "group":
                group = value
            elif kind == "property":
                props.append(value)
            elif item in ("openid", "profile", "offline_access"):
                continue
            else:
                raise AuthFailure(f"Unrecognised scope {item!r}", 400)
        if vo != self.settings.vo:
            raise AuthFailure(f"Unknown VO in scope: {vo!r} (this server serves {self.settings.vo!r})", 400)
        group = group or self.settings.default_group
        if group not in self.settings.groups:
            raise AuthFailure(f"Unknown group {group!r}", 400)
        if user is not None and group not in user.groups:
            raise AuthFailure(f"User {user.username} is not a member of group {group}", 403)
        allowed = self.settings.group_properties(group)
        for p in props:
            if p not in allowed:
                raise AuthFailure(f"Property {p} is not granted to group {group}", 403)
        return Scope(vo, group, tuple(allowed))

    # -- access tokens ----------------------------------------------------------------
    def mint_access_token(self, user: User, group: str, minutes: float | None = None) -> tuple[str, int]:
        """A signed access token and its lifetime in seconds."""
        lifetime = int(60 * (minutes if minutes is not None else self.settings.access_token_minutes))
        payload = {
            "jti": str(uuid.uuid4()),
            "exp": int(time.time()) + lifetime,
            "dirac_policies": {},
            "sub": user.sub,
            "vo": self.settings.vo,
            "iss": self.issuer,
            "dirac_properties": self.settings.group_properties(group),
            "preferred_username": user.username,
            "dirac_group": group,
        }
        return self._sign(payload), lifetime

    def verify_access_token(self, token: str) -> AuthorizedUser:
        claims = self._decode(token)
        if "legacy_exchange" in claims or "dirac_group" not in claims:
            raise AuthFailure("Invalid JWT")
        user = self.settings.user_by_sub(claims.get("sub", ""))
        if user is None or claims.get("vo") != self.settings.vo:
            raise AuthFailure("Invalid JWT")
        if claims["dirac_group"] not in user.groups:
            raise AuthFailure("Invalid JWT")
        return AuthorizedUser(
            sub=claims["sub"],
            vo=claims["vo"],
            group=claims["dirac_group"],
            properties=tuple(claims.get("dirac_properties", [])),
            username=user.username,
            jti=claims["jti"],
        )

    def authorize_header(self, header: str | None) -> AuthorizedUser:
        if not header:
            raise AuthFailure("Authorization header is missing")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token:
            raise AuthFailure("Invalid authorization header")
        return self.verify_access_token(token.strip())

    # -- refresh tokens ---------------------------------------------------------------
    def issue_tokens(self, user: User, scope: Scope, scope_text: str) -> dict:
        """A DiracX TokenResponse: a new access token and a tracked refresh token."""
        access, lifetime = self.mint_access_token(user, scope.group)
        jti = str(uuid.uuid4())
        now = time.time()
        expires = now + 60 * self.settings.refresh_token_minutes
        refresh = self._sign(
            {"jti": jti, "exp": int(expires), "dirac_policies": {}, "legacy_exchange": False}
        )
        with self.db.write() as c:
            c.execute(
                "INSERT INTO auth_refresh_tokens VALUES (?,?,?,?,?,?,?)",
                (jti, user.sub, user.username, scope_text, ACTIVE, now, expires),
            )
        return {
            "access_token": access,
            "expires_in": lifetime,
            "token_type": "Bearer",
            "refresh_token": refresh,
        }

    def refresh(self, refresh_token: str) -> dict:
        """Rotate a refresh token; reuse of a revoked one revokes the whole login."""
        claims = self._decode(refresh_token)
        with self.db.write() as c:
            row = c.execute(
                "SELECT * FROM auth_refresh_tokens WHERE jti=?", (claims["jti"],)
            ).fetchone()
            if row is None:
                raise AuthFailure("Invalid refresh token")
            if row["status"] == REVOKED:
                c.execute("UPDATE auth_refresh_tokens SET status=? WHERE sub=?", (REVOKED, row["sub"]))
                reuse = True
            else:
                c.execute("UPDATE auth_refresh_tokens SET status=? WHERE jti=?", (REVOKED, row["jti"]))
                reuse = False
        if reuse:
            raise AuthFailure(
                "Revoked refresh token reused: potential attack detected. You must authenticate again"
            )
        user = self.settings.user(row["username"])
        if user is None:
            raise AuthFailure("Unknown user")
        scope = self.parse_scope(row["scope"], user)
        return self.issue_tokens(user, scope, row["scope"])

    def revoke(self, refresh_token: str) -> None:
        claims = self._decode(refresh_token)
        with self.db.write() as c:
            c.execute("UPDATE auth_refresh_tokens SET status=? WHERE jti=?", (REVOKED, claims["jti"]))

    def list_refresh_tokens(self, sub: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT jti, status, scope, sub FROM auth_refresh_tokens WHERE sub=? AND status=?",
            (sub, ACTIVE),
        )
        return [{"JTI": r["jti"], "Status": r["status"], "Scope": r["scope"], "Sub": r["sub"]} for r in rows]

    # -- device flow -----------------------------------------------------------------
    def start_device_flow(self, client_id: str, scope: str) -> tuple[str, str, int]:
        self.parse_scope(scope)  # reject bad scopes before anything is stored
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        now = time.time()
        with self.db.write() as c:
            c.execute(
                "INSERT INTO auth_device_flows VALUES (?,?,?,?,?,?,?,?)",
                (device_code, user_code, client_id, scope, "pending", None, now, now + 600),
            )
        return device_code, user_code, 600

    def check_login_secret(self, presented: str | None) -> None:
        """Only the server's owner may approve a login: they alone can read the login secret.

        This machine is the identity provider, and anyone who can reach the port
        could otherwise log in as the owner (or any configured user).
        """
        if not presented or not secrets.compare_digest(presented.strip().encode(), self._login_secret.strip()):
            raise AuthFailure(
                "this embedded server approves logins only with its owner's login secret "
                "(gb2_proxy_init on the owner's account presents it)", 403)

    def approve_device_flow(self, user_code: str, username: str) -> None:
        user = self.settings.user(username)
        if user is None:
            raise AuthFailure(f"Unknown user {username!r}", 403)
        with self.db.write() as c:
            row = c.execute(
                "SELECT * FROM auth_device_flows WHERE user_code=?", (user_code,)
            ).fetchone()
            if row is None or row["status"] != "pending" or row["expires"] < time.time():
                raise AuthFailure("Invalid or expired user code", 400)
            self.parse_scope(row["scope"], user)
            c.execute(
                "UPDATE auth_device_flows SET status='ready', username=? WHERE user_code=?",
                (username, user_code),
            )

    def poll_device_flow(self, device_code: str, client_id: str) -> dict:
        """Tokens once approved; ``AuthFailure`` carrying an OAuth2 error code otherwise."""
        with self.db.write() as c:
            row = c.execute(
                "SELECT * FROM auth_device_flows WHERE device_code=?", (device_code,)
            ).fetchone()
            if row is None or row["client_id"] != client_id:
                raise AuthFailure("invalid_grant", 400)
            if row["expires"] < time.time():
                raise AuthFailure("expired_token", 400)
            if row["status"] == "pending":
                raise AuthFailure("authorization_pending", 400)
            if row["status"] == "done":
                raise AuthFailure("Code was already used", 401)
            c.execute("UPDATE auth_device_flows SET status='done' WHERE device_code=?", (device_code,))
        user = self.settings.user(row["username"])
        assert user is not None
        scope = self.parse_scope(row["scope"], user)
        return self.issue_tokens(user, scope, row["scope"])

    # -- Rucio userpass tokens --------------------------------------------------------
    def rucio_userpass(self, account: str, username: str, password: str) -> tuple[str, float]:
        user = self.settings.user(username)
        if user is None or not user.password or not secrets.compare_digest(user.password, password):
            raise AuthFailure(f"Cannot authenticate to account {account} with given credentials")
        if account != user.username:
            raise AuthFailure(f"Cannot authenticate to account {account} with given credentials")
        token = f"{account}-{username}-unknown-{uuid.uuid4().hex}"
        expires = time.time() + 3600
        with self.db.write() as c:
            c.execute("INSERT INTO rucio_tokens VALUES (?,?,?,?)", (token, account, username, expires))
        return token, expires

    def rucio_account(self, token: str | None) -> str:
        """The Rucio account behind ``X-Rucio-Auth-Token``: a userpass token or a DiracX JWT.

        Accepting the JWT mirrors a Rucio server configured for OIDC tokens from the
        same identity provider as DiracX.
        """
        if not token:
            raise AuthFailure("Token must be set.", 400)
        if token.count(".") == 2:
            return self.verify_access_token(token).username
        rows = self.db.execute("SELECT account, expires FROM rucio_tokens WHERE token=?", (token,))
        if not rows or rows[0]["expires"] < time.time():
            raise AuthFailure("Cannot authenticate with given credentials")
        return rows[0]["account"]
