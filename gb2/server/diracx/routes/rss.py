"""DiracX's ``GET /api/rss/site``: the site mask, as DiracX 0.7's resource status routes give it.

Every site of the sample grid is listed, ``{"all": {"allowed": true}}`` or, for a site
the server's settings ban, ``{"all": {"allowed": false, "reason": ...}}``. The engine
matches no job to a banned site, so jobs that can only run there wait.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server import topology
from gb2.server.http import diracx_route, json_response
from gb2.server.state import ServerState


def site_status(state: ServerState) -> dict[str, dict[str, dict[str, object]]]:
    banned = state.settings.banned_sites
    out: dict[str, dict[str, dict[str, object]]] = {}
    for site in topology.SITES:
        if site.name in banned:
            out[site.name] = {"all": {"allowed": False, "reason": banned[site.name] or "Banned"}}
        else:
            out[site.name] = {"all": {"allowed": True, "warnings": None}}
    return out


def routes(state: ServerState) -> list[Route]:
    @diracx_route
    async def sites(request: Request) -> Response:
        state.authority.authorize_header(request.headers.get("authorization"))
        return json_response(site_status(state))

    return [Route("/api/rss/site", sites, methods=["GET"])]
