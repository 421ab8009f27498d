"""Rucio's ``/replicas`` routes: register, delete, list (NDJSON or Metalink), dataset summaries."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gb2.server.http import rucio_route, threadpool
from gb2.server.rucio import replicas, rse_status
from gb2.server.rucio.errors import RucioError
from gb2.server.rucio.rses import parse_expression
from gb2.server.rucio.web import (
    NDJSON,
    account_of,
    body_of,
    catalog,
    check_accept,
    created,
    empty,
    flag,
    ndjson,
    param,
    split_scope_name,
)
from gb2.server.state import ServerState

METALINK = "application/metalink4+xml"


def routes(state: ServerState) -> list[Route]:
    cat = catalog(state)

    def respond(records, content_type: str) -> Response:
        if content_type == METALINK:
            return StreamingResponse((s.encode() for s in replicas.metalink(records)), media_type=METALINK)
        return ndjson(records)

    @rucio_route
    async def add(request: Request) -> Response:
        account = await account_of(state, request)
        body = await body_of(request)
        files = param(body, "files")
        if not isinstance(files, list):
            raise RucioError("InvalidObject", "Problem validating files : a list is required")
        await threadpool(cat.add_replicas, account, param(body, "rse"), files)
        return created()

    @rucio_route
    async def delete(request: Request) -> Response:
        account = await account_of(state, request)
        body = await body_of(request)
        await threadpool(replicas.delete_replicas, cat, account, param(body, "rse"), param(body, "files"))
        return empty()

    @rucio_route
    async def list_post(request: Request) -> Response:
        await account_of(state, request)
        content_type = check_accept(request, [NDJSON, METALINK])
        body = await body_of(request)
        if body.get("rse_expression"):  # a bad expression is a 400 before streaming starts
            parse_expression(body["rse_expression"])
        rows = await threadpool(replicas.resolve_inputs, cat, body.get("dids") or [])
        ignore = flag(body.get("ignore_availability", "unavailable" in body))
        down = set() if ignore else await threadpool(rse_status.unreadable, cat)
        records = replicas.list_replicas(
            cat, rows, schemes=body.get("schemes"), rse_expression=body.get("rse_expression"),
            all_states=flag(body.get("all_states", False)), domain=body.get("domain"),
            sort=request.query_params.get("sort") or body.get("sort"),
            client_site=(body.get("client_location") or {}).get("site"), unavailable=down)
        return respond(records, content_type)

    @rucio_route
    async def list_get(request: Request) -> Response:
        await account_of(state, request)
        content_type = check_accept(request, [NDJSON, METALINK])
        scope, name = split_scope_name(request.path_params["sn"])
        rows = await threadpool(replicas.resolve_inputs, cat, [{"scope": scope, "name": name}])
        schemes = request.query_params.get("schemes")
        down = await threadpool(rse_status.unreadable, cat)
        records = replicas.list_replicas(cat, rows, schemes=schemes.split(",") if schemes else None,
                                         sort=request.query_params.get("select"), unavailable=down)
        return respond(records, content_type)

    @rucio_route
    async def datasets(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        scope, name = split_scope_name(request.path_params["sn"])
        return ndjson(await threadpool(replicas.dataset_replicas, cat, scope, name))

    return [
        Route("/replicas/list", list_post, methods=["POST"]),
        Route("/replicas", add, methods=["POST"]),
        Route("/replicas/", add, methods=["POST"]),
        Route("/replicas", delete, methods=["DELETE"]),
        Route("/replicas/", delete, methods=["DELETE"]),
        Route("/replicas/{sn:path}/datasets", datasets, methods=["GET"]),
        Route("/replicas/{sn:path}", list_get, methods=["GET"]),
    ]
