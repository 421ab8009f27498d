"""Rucio's ping, authentication, account and scope routes."""

from __future__ import annotations

import datetime
import time

import jwt
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gb2.server.auth import AuthFailure
from gb2.server.http import rucio_route, threadpool
from gb2.server.rucio.util import rucio_date
from gb2.server.rucio.web import JSON, account_of, catalog, check_accept, json_response
from gb2.server.state import ServerState

RUCIO_VERSION = "41.5.1"


def _token_details(state: ServerState, token: str) -> tuple[str, float]:
    """(identity, expiry) of a valid token: a userpass token or a DiracX JWT."""
    if token.count(".") == 2:
        claims = jwt.decode(token, options={"verify_signature": False})
        return str(claims.get("preferred_username") or claims.get("sub")), float(claims["exp"])
    rows = state.db.execute("SELECT identity, expires FROM rucio_tokens WHERE token=?", (token,))
    return (rows[0]["identity"], rows[0]["expires"]) if rows else ("", time.time())


def routes(state: ServerState) -> list[Route]:
    async def ping(request: Request) -> Response:
        return json_response({"version": RUCIO_VERSION})

    @rucio_route
    async def userpass(request: Request) -> Response:
        account = request.headers.get("x-rucio-account")
        username = request.headers.get("x-rucio-username")
        password = request.headers.get("x-rucio-password")
        if not account or not username or not password:
            raise AuthFailure("Cannot authenticate without passing all required arguments")
        token, expires = await threadpool(state.authority.rucio_userpass, account, username, password)
        headers = {"X-Rucio-Auth-Token": token, "X-Rucio-Auth-Token-Expires": rucio_date(expires) or "",
                   "X-Rucio-Auth-Account": account}
        return Response(b"", headers=headers, media_type="application/octet-stream")

    @rucio_route
    async def validate(request: Request) -> Response:
        account = await account_of(state, request)
        token = request.headers["x-rucio-auth-token"]
        identity, expires = await threadpool(_token_details, state, token)
        lifetime = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).replace(tzinfo=None)
        info = {"account": account, "identity": identity, "lifetime": lifetime, "audience": None,
                "authz_scope": None, "vo": "def"}
        return Response(repr(info), media_type="application/octet-stream")

    @rucio_route
    async def whoami(request: Request) -> Response:
        account = await account_of(state, request)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/accounts/{account}", status_code=303)

    @rucio_route
    async def get_account(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        info = await threadpool(catalog(state).account_info, request.path_params["account"])
        return json_response(info)

    @rucio_route
    async def list_scopes(request: Request) -> Response:
        await account_of(state, request)
        return json_response(await threadpool(catalog(state).scopes))

    @rucio_route
    async def account_scopes(request: Request) -> Response:
        await account_of(state, request)
        account = request.path_params["account"]
        cat = catalog(state)
        await threadpool(cat.account_info, account)
        rows = await threadpool(state.db.execute, "SELECT scope FROM rucio_scopes WHERE account=? ORDER BY scope",
                                (account,))
        return json_response([r["scope"] for r in rows])

    return [
        Route("/ping", ping, methods=["GET"]),
        Route("/auth/userpass", userpass, methods=["GET"]),
        Route("/auth/validate", validate, methods=["GET"]),
        Route("/accounts/whoami", whoami, methods=["GET"]),
        Route("/accounts/{account}", get_account, methods=["GET"]),
        Route("/accounts/{account}/scopes", account_scopes, methods=["GET"]),
        Route("/accounts/{account}/scopes/", account_scopes, methods=["GET"]),
        Route("/scopes/", list_scopes, methods=["GET"]),
        Route("/scopes", list_scopes, methods=["GET"]),
    ]
