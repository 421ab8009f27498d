"""Rucio's account limit and account usage routes (``/accounts/<a>/limits...``,
``/accounts/<a>/usage...``, ``/accountlimits/...``), as Rucio 41 lays them out.

Global (RSE-expression) limits are not modelled: their listings are empty.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server.http import rucio_route, threadpool
from gb2.server.rucio import quotas
from gb2.server.rucio.web import (
    JSON,
    NDJSON,
    account_of,
    body_of,
    catalog,
    check_accept,
    created,
    empty,
    json_response,
    ndjson,
    param,
)
from gb2.server.state import ServerState


def routes(state: ServerState) -> list[Route]:
    cat = catalog(state)

    @rucio_route
    async def limits(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        args = request.path_params
        return json_response(await threadpool(quotas.local_limits, cat, args["account"], args.get("rse")))

    @rucio_route
    async def set_limit(request: Request) -> Response:
        issuer = await account_of(state, request)
        args = request.path_params
        body = await body_of(request)
        await threadpool(quotas.set_local_limit, cat, issuer, args["account"], args["rse"], param(body, "bytes"))
        return created()

    @rucio_route
    async def delete_limit(request: Request) -> Response:
        issuer = await account_of(state, request)
        args = request.path_params
        await threadpool(quotas.delete_local_limit, cat, issuer, args["account"], args["rse"])
        return empty()

    @rucio_route
    async def global_limits(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        await threadpool(quotas.local_limits, cat, request.path_params["account"])  # 404 for an unknown account
        return json_response({})

    @rucio_route
    async def usage(request: Request) -> Response:
        issuer = await account_of(state, request)
        check_accept(request, [NDJSON])
        args = request.path_params
        return ndjson(await threadpool(quotas.local_usage, cat, issuer, args["account"], args.get("rse")))

    @rucio_route
    async def global_usage(request: Request) -> Response:
        issuer = await account_of(state, request)
        check_accept(request, [NDJSON])
        await threadpool(quotas.local_usage, cat, issuer, request.path_params["account"])  # permission, 404
        return ndjson([])

    account = "/accounts/{account}"
    return [
        Route(f"{account}/limits", limits, methods=["GET"]),
        Route(f"{account}/limits/local", limits, methods=["GET"]),
        Route(f"{account}/limits/global", global_limits, methods=["GET"]),
        Route(f"{account}/limits/global/{{expression}}", global_limits, methods=["GET"]),
        Route(f"{account}/limits/local/{{rse}}", limits, methods=["GET"]),
        Route(f"{account}/limits/local/{{rse}}", set_limit, methods=["POST"]),
        Route(f"{account}/limits/local/{{rse}}", delete_limit, methods=["DELETE"]),
        Route(f"{account}/limits/{{rse}}", limits, methods=["GET"]),
        Route(f"{account}/usage", usage, methods=["GET"]),
        Route(f"{account}/usage/", usage, methods=["GET"]),
        Route(f"{account}/usage/local", usage, methods=["GET"]),
        Route(f"{account}/usage/global", global_usage, methods=["GET"]),
        Route(f"{account}/usage/global/{{expression}}", global_usage, methods=["GET"]),
        Route(f"{account}/usage/local/{{rse}}", usage, methods=["GET"]),
        Route(f"{account}/usage/{{rse}}", usage, methods=["GET"]),
        Route("/accountlimits/local/{account}/{rse}", set_limit, methods=["POST"]),
        Route("/accountlimits/local/{account}/{rse}", delete_limit, methods=["DELETE"]),
        Route("/accountlimits/{account}/{rse}", set_limit, methods=["POST"]),
        Route("/accountlimits/{account}/{rse}", delete_limit, methods=["DELETE"]),
    ]
