"""Rucio's ``/dids`` routes: get/create, contents, files, parents, metadata, search, rules of a DID."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server.http import rucio_route, threadpool
from gb2.server.rucio import listing, rules, search
from gb2.server.rucio.errors import RucioError
from gb2.server.rucio.web import (
    JSON,
    NDJSON,
    account_of,
    body_of,
    catalog,
    check_accept,
    created,
    empty,
    flag,
    json_response,
    ndjson,
    param,
    split_scope_name,
)
from gb2.server.state import ServerState


def routes(state: ServerState) -> list[Route]:
    cat = catalog(state)

    def did_of(request: Request) -> tuple[str, str]:
        return split_scope_name(request.path_params["sn"])

    @rucio_route
    async def scope_list(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        args = request.query_params
        items = await threadpool(listing.scope_list, cat, request.path_params["scope"], args.get("name"),
                                 flag(args.get("recursive", "false")))
        return ndjson(items)

    @rucio_route
    async def search_dids(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        args = request.query_params
        filters = search.parse_filters(args.get("filters"), args)
        limit = args.get("limit")
        try:
            limit_n = int(limit) if limit else None
        except ValueError as exc:
            raise RucioError("ValueError", f"invalid limit {limit!r}") from exc
        long = args.get("long", "False") in ("True", "1", "true")

        def run():
            cat.undertake()
            sql, params, plugin = search.compile_search(request.path_params["scope"], filters,
                                                        args.get("type", "collection"), limit_n)
            return search.render(cat.stream(sql, params), plugin, long)

        return ndjson(await threadpool(run))

    @rucio_route
    async def get_did(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        scope, name = did_of(request)
        args = request.query_params
        dynamic = args.get("dynamic_depth", "").upper() in ("FILE", "DATASET") or "dynamic" in args
        return json_response(await threadpool(cat.did_summary, scope, name, dynamic))

    @rucio_route
    async def add_did(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        body = await body_of(request)

        def run() -> None:
            cat.add_did(account, scope, name, param(body, "type"), meta=body.get("meta") or {},
                        lifetime=body.get("lifetime"), statuses=body.get("statuses") or {},
                        dids=body.get("dids") or [], rse=body.get("rse"))
            for spec in body.get("rules") or []:
                rules.add_rules(cat, account, {**spec, "dids": [{"scope": scope, "name": name}]})

        await threadpool(run)
        return created()

    @rucio_route
    async def set_status(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        body = await body_of(request)
        if "open" not in body:
            raise RucioError("UnsupportedStatus", f"The status {list(body)} is not supported", 409)
        await threadpool(cat.set_status, account, scope, name, flag(body["open"]))
        return empty()

    @rucio_route
    async def content(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        scope, name = did_of(request)
        return ndjson(await threadpool(listing.list_content, cat, scope, name))

    @rucio_route
    async def attach(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        body = await body_of(request)
        attachment = {"scope": scope, "name": name, "dids": param(body, "dids"), "rse": body.get("rse")}
        await threadpool(cat.attach, account, [attachment])
        return created()

    @rucio_route
    async def detach(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        body = await body_of(request)
        await threadpool(cat.detach, account, scope, name, param(body, "dids"))
        return empty()

    @rucio_route
    async def attachments(request: Request) -> Response:
        account = await account_of(state, request)
        body = await body_of(request, (dict, list))
        if isinstance(body, list):
            items, ignore = body, False
        else:
            items, ignore = param(body, "attachments"), flag(body.get("ignore_duplicate", False))
        await threadpool(cat.attach, account, items, ignore_duplicate=ignore)
        return created()

    @rucio_route
    async def files(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        scope, name = did_of(request)
        long = flag(request.query_params.get("long", "false"))
        return ndjson(await threadpool(listing.list_files, cat, scope, name, long))

    @rucio_route
    async def parents(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        scope, name = did_of(request)
        return ndjson(await threadpool(listing.list_parents, cat, scope, name))

    @rucio_route
    async def get_meta(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        scope, name = did_of(request)
        plugin = request.query_params.get("plugin", "DID_COLUMN")
        return json_response(await threadpool(cat.get_metadata, scope, name, plugin))

    @rucio_route
    async def set_meta(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        body = await body_of(request)
        values = param(body, "meta")
        if not isinstance(values, dict):
            raise RucioError("ValueError", "meta must be a dictionary")
        await _meta_write(cat.set_metadata, account, scope, name, values, flag(body.get("recursive", False)))
        return created()

    @rucio_route
    async def set_single_meta(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        body = await body_of(request)
        values = {request.path_params["key"]: param(body, "value")}
        await _meta_write(cat.set_metadata, account, scope, name, values, flag(body.get("recursive", False)))
        return created()

    @rucio_route
    async def delete_meta(request: Request) -> Response:
        account = await account_of(state, request)
        scope, name = did_of(request)
        key = request.query_params.get("key")
        if not key:
            raise RucioError("ValueError", "No key provided to remove")
        await _meta_write(cat.delete_metadata, account, scope, name, key)
        return empty()

    @rucio_route
    async def bulk_meta(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        body = await body_of(request)
        items = await threadpool(cat.bulk_metadata, param(body, "dids"), body.get("plugin", "JSON"),
                                 flag(body.get("inherit", False)))
        return ndjson(items)

    @rucio_route
    async def did_rules(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        scope, name = did_of(request)
        return ndjson(await threadpool(rules.did_rules, cat, scope, name))

    path = "/dids/{sn:path}"
    return [
        Route("/dids/attachments", attachments, methods=["POST"]),
        Route("/dids/bulkmeta", bulk_meta, methods=["POST"]),
        Route("/dids/{scope}/", scope_list, methods=["GET"]),
        Route("/dids/{scope}/dids/search", search_dids, methods=["GET"]),
        Route(f"{path}/status", set_status, methods=["PUT"]),
        Route(f"{path}/files", files, methods=["GET"]),
        Route(f"{path}/dids", content, methods=["GET"]),
        Route(f"{path}/dids", attach, methods=["POST"]),
        Route(f"{path}/dids", detach, methods=["DELETE"]),
        Route(f"{path}/meta/{{key}}", set_single_meta, methods=["POST"]),
        Route(f"{path}/meta", get_meta, methods=["GET"]),
        Route(f"{path}/meta", set_meta, methods=["POST"]),
        Route(f"{path}/meta", delete_meta, methods=["DELETE"]),
        Route(f"{path}/rules", did_rules, methods=["GET"]),
        Route(f"{path}/parents", parents, methods=["GET"]),
        Route(path, get_did, methods=["GET"]),
        Route(path, add_did, methods=["POST"]),
    ]


async def _meta_write(fn, *args):  # type: ignore[no-untyped-def]
    """Rucio 41's metadata routes do not map AccessDenied to 401: it leaves them as a 500
    with ExceptionClass AccessDenied (seen on a real server); so does this one."""
    try:
        return await threadpool(fn, *args)
    except RucioError as exc:
        if exc.exc_class == "AccessDenied":
            raise RucioError("AccessDenied", str(exc.detail), status_code=500) from None
        raise
