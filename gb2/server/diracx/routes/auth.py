"""DiracX's ``/api/auth`` routes: device flow, token grants, revocation, userinfo.

The identity provider is this machine: fetching ``verification_uri_complete``
with the server's login secret in the ``X-Gb2-Login-Secret`` header approves the
login for the server's owner (or for the configured user named by OIDC's
``login_hint``), which is what a browser login at a real IdP would do. Without
the secret (another account on this machine, a page opened by anyone) the
approval is refused: the secret is a 0600 file in the owner's 0700 data dir.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gb2 import DIRACX_CLIENT_ID, LOGIN_SECRET_HEADER
from gb2.server.auth import AuthFailure
from gb2.server.http import ApiError, diracx_route, json_response, threadpool
from gb2.server.state import ServerState

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _check_client(client_id: str | None) -> None:
    if client_id != DIRACX_CLIENT_ID:
        raise ApiError(400, "Unrecognised client ID")


def routes(state: ServerState) -> list[Route]:
    authority = state.authority

    @diracx_route
    async def device_start(request: Request) -> Response:
        client_id = request.query_params.get("client_id")
        scope = request.query_params.get("scope")
        if client_id is None or scope is None:
            raise ApiError(422, "client_id and scope are required query parameters")
        _check_client(client_id)
        device_code, user_code, expires = await threadpool(authority.start_device_flow, client_id, scope)
        uri = f"{state.base_url}/api/auth/device"
        return json_response(
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri_complete": f"{uri}?user_code={user_code}",
                "verification_uri": uri,
                "expires_in": expires,
            }
        )

    @diracx_route
    async def device_approve(request: Request) -> Response:
        user_code = request.query_params.get("user_code")
        if not user_code:
            raise ApiError(422, "user_code is a required query parameter")
        authority.check_login_secret(request.headers.get(LOGIN_SECRET_HEADER))
        username = request.query_params.get("login_hint") or state.settings.default_user.username
        await threadpool(authority.approve_device_flow, user_code, username)
        return RedirectResponse(f"{state.base_url}/api/auth/device/complete/finished", status_code=307)

    async def device_finished(request: Request) -> Response:
        return HTMLResponse("<h1>Please close the window</h1>")

    @diracx_route
    async def token(request: Request) -> Response:
        form = await request.form()
        grant_type = form.get("grant_type")
        client_id = form.get("client_id")
        _check_client(client_id if isinstance(client_id, str) else None)
        if grant_type == DEVICE_GRANT:
            device_code = form.get("device_code")
            if not isinstance(device_code, str):
                raise ApiError(400, "device_code is required")
            tokens = await threadpool(authority.poll_device_flow, device_code, client_id)
        elif grant_type == "refresh_token":
            refresh = form.get("refresh_token")
            if not isinstance(refresh, str):
                raise ApiError(400, "refresh_token is required")
            tokens = await threadpool(authority.refresh, refresh)
        else:
            raise ApiError(400, f"Invalid grant_type: {grant_type}")
        return json_response(tokens)

    @diracx_route
    async def revoke(request: Request) -> Response:
        form = await request.form()
        _check_client(form.get("client_id") if isinstance(form.get("client_id"), str) else None)
        token_value = form.get("token")
        if not isinstance(token_value, str):
            raise ApiError(400, "token is required")
        await threadpool(authority.revoke, token_value)
        return json_response("Refresh token revoked")

    @diracx_route
    async def userinfo(request: Request) -> Response:
        user = authority.authorize_header(request.headers.get("authorization"))
        return json_response(
            {
                "sub": user.sub,
                "vo": user.vo,
                "dirac_group": user.group,
                "policies": {},
                "properties": list(user.properties),
                "preferred_username": user.username,
            }
        )

    @diracx_route
    async def refresh_tokens(request: Request) -> Response:
        user = authority.authorize_header(request.headers.get("authorization"))
        return json_response(await threadpool(authority.list_refresh_tokens, user.sub))

    @diracx_route
    async def delete_refresh_token(request: Request) -> Response:
        user = authority.authorize_header(request.headers.get("authorization"))
        jti = request.path_params["jti"]

        def revoke_own() -> None:
            with state.db.write() as c:
                row = c.execute("SELECT sub FROM auth_refresh_tokens WHERE jti=?", (jti,)).fetchone()
                if row is None:
                    raise ApiError(404, "JTI not found")
                if row["sub"] != user.sub:
                    raise AuthFailure("Forbidden", 403)
                c.execute("UPDATE auth_refresh_tokens SET status=2 WHERE jti=?", (jti,))

        await threadpool(revoke_own)
        return json_response(f"Refresh token {jti} revoked")

    return [
        Route("/device", device_start, methods=["POST"]),
        Route("/device", device_approve, methods=["GET"]),
        Route("/device/complete/finished", device_finished, methods=["GET"]),
        Route("/token", token, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
        Route("/userinfo", userinfo, methods=["GET"]),
        Route("/refresh-tokens", refresh_tokens, methods=["GET"]),
        Route("/refresh-tokens/{jti}", delete_refresh_token, methods=["DELETE"]),
    ]
