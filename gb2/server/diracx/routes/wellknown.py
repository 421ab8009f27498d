"""DiracX's discovery routes: OpenID configuration, JWKS, DIRAC metadata, health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server.http import diracx_route, json_response
from gb2.server.state import ServerState

_PROPERTIES = ("NormalUser", "JobAdministrator", "JobSharing", "FileCatalogManagement")


def routes(state: ServerState) -> list[Route]:
    s = state.settings

    @diracx_route
    async def openid_configuration(request: Request) -> Response:
        base = state.base_url
        return json_response(
            {
                "issuer": base,
                "token_endpoint": f"{base}/api/auth/token",
                "userinfo_endpoint": f"{base}/api/auth/userinfo",
                "authorization_endpoint": f"{base}/api/auth/authorize",
                "device_authorization_endpoint": f"{base}/api/auth/device",
                "revocation_endpoint": f"{base}/api/auth/revoke",
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "grant_types_supported": [
                    "authorization_code",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ],
                "scopes_supported": [f"vo:{s.vo}"]
                + [f"group:{g}" for g in s.groups]
                + [f"property:{p}" for p in _PROPERTIES],
                "response_types_supported": ["code"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256", "Ed25519"],
                "token_endpoint_auth_methods_supported": ["none"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    @diracx_route
    async def jwks(request: Request) -> Response:
        return json_response(state.authority.jwks())

    @diracx_route
    async def dirac_metadata(request: Request) -> Response:
        # "gb2" is this server's addition (DiracX's own document has only virtual_organizations):
        # clients submit jobs held in Scouting only to a server that says it holds them.
        return json_response(
            {
                "gb2": {"scouting": s.scouting},
                "virtual_organizations": {
                    s.vo: {
                        "groups": {g: {"properties": props} for g, props in s.groups.items()},
                        "support": {
                            "message": "This is the gb2 embedded server on your machine",
                            "webpage": None,
                            "email": None,
                        },
                        "default_group": s.default_group,
                    }
                }
            }
        )

    async def health(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("live", "ready", "startup"):
            return json_response({"detail": "Not Found"}, 404)
        return json_response({"status": kind})

    return [
        Route("/.well-known/openid-configuration", openid_configuration),
        Route("/.well-known/jwks.json", jwks),
        Route("/.well-known/dirac-metadata", dirac_metadata),
        Route("/api/health/{kind:str}", health),
    ]
