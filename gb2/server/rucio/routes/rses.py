"""Rucio's ``/rses`` routes: listing with expressions, details, protocols, usage, lfns2pfns."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server.http import rucio_route, threadpool
from gb2.server.rucio import replicas, rse_status, rses
from gb2.server.rucio.errors import RucioError
from gb2.server.rucio.util import rucio_date
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
)
from gb2.server.state import ServerState
from gb2.server.topology import STORAGE_ELEMENTS, StorageElement, storage_element


def routes(state: ServerState) -> list[Route]:
    cat = catalog(state)

    def se_of(request: Request) -> StorageElement:
        name = request.path_params["rse"]
        se = storage_element(name)
        if se is None or name not in cat.rse_ids:
            raise RucioError("RSENotFound", f"RSE '{name}' cannot be found")
        return se

    def summary(se: StorageElement, flags: dict[str, bool]) -> dict:
        created = rucio_date(float(cat.state_value("created_at") or 0))
        return {"id": cat.rse_uuids[se.name], "rse": se.name, "vo": "def", "rse_type": "DISK",
                "deterministic": True, "volatile": False, "staging_area": False, "city": se.city,
                "region_code": None, "country_name": None, "continent": None, "time_zone": None,
                "ISP": None, "ASN": None, "longitude": None, "latitude": None, "availability": _availability_bits(flags), **flags,
                "qos_class": None, "deleted": False, "deleted_at": None, "created_at": created,
                "updated_at": created}

    @rucio_route
    async def list_rses(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        expression = request.query_params.get("expression")
        if expression:
            return ndjson([{"rse": name} for name in rses.parse_expression(expression)])
        flags = await threadpool(rse_status.availability, cat)
        return ndjson([summary(se, flags[se.name]) for se in STORAGE_ELEMENTS])

    @rucio_route
    async def get_rse(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        se = se_of(request)
        flags = (await threadpool(rse_status.availability, cat))[se.name]
        return json_response({**rses.describe(state.settings, state.base_url, se, cat.rse_uuids[se.name]),
                              **flags, "availability": _availability_bits(flags)})

    @rucio_route
    async def update_rse(request: Request) -> Response:
        account = await account_of(state, request)
        se = se_of(request)
        await threadpool(rse_status.update_rse, cat, account, se.name, await body_of(request))
        return created()

    @rucio_route
    async def get_distance(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        args = request.path_params
        return json_response(await threadpool(rse_status.get_distance, cat, args["source"], args["destination"]))

    @rucio_route
    async def set_distance(request: Request) -> Response:
        account = await account_of(state, request)
        args, body = request.path_params, await body_of(request)
        value = body.get("distance", body.get("ranking"))
        if request.method == "POST":
            await threadpool(rse_status.set_distance, cat, account, args["source"], args["destination"], value,
                             create=True, bidirectional=flag(body.get("bidirectional", False)))
            return created()
        await threadpool(rse_status.set_distance, cat, account, args["source"], args["destination"], value,
                         create=False)
        return empty()

    @rucio_route
    async def delete_distance(request: Request) -> Response:
        account = await account_of(state, request)
        args = request.path_params
        await threadpool(rse_status.delete_distance, cat, account, args["source"], args["destination"])
        return empty()

    @rucio_route
    async def protocols(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        se = se_of(request)
        return json_response([p.as_dict() for p in rses.protocols(state.settings, state.base_url, se)])

    @rucio_route
    async def attributes(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        return json_response(rses.attributes(se_of(request)))

    @rucio_route
    async def usage(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [NDJSON])
        se = se_of(request)
        used = await threadpool(replicas.rse_usage, cat, se.name)
        return ndjson([used, replicas.storage_usage(used, state.settings.storage_capacity(se.name))])

    @rucio_route
    async def lfns2pfns(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        se = se_of(request)
        args = request.query_params
        lfns = args.getlist("lfn")
        bad = [lfn for lfn in lfns if ":" not in lfn]
        if bad:
            raise RucioError("InvalidPath", "LFN(s) in invalid format: " + ", ".join(bad))
        scheme, domain = args.get("scheme"), args.get("domain", "wan")
        operation = args.get("operation", "write")
        usable = [p for p in rses.protocols(state.settings, state.base_url, se)
                  if p.supports(domain, operation) and (scheme is None or p.scheme == scheme)]
        if not usable:
            raise RucioError("RSEProtocolNotSupported",
                             f"RSE {se.name} has no protocol for scheme {scheme}, domain {domain}, operation {operation}")
        proto = usable[0]
        out = {lfn: rses.pfn(state.settings, state.base_url, se.name, proto.scheme, lfn.split(":", 1)[1])
               for lfn in lfns}
        return json_response(out)

    return [
        Route("/rses/", list_rses, methods=["GET"]),
        Route("/rses", list_rses, methods=["GET"]),
        Route("/rses/{rse}", get_rse, methods=["GET"]),
        Route("/rses/{rse}", update_rse, methods=["PUT"]),
        Route("/rses/{source}/distances/{destination}", get_distance, methods=["GET"]),
        Route("/rses/{source}/distances/{destination}", set_distance, methods=["POST", "PUT"]),
        Route("/rses/{source}/distances/{destination}", delete_distance, methods=["DELETE"]),
        Route("/rses/{rse}/protocols", protocols, methods=["GET"]),
        Route("/rses/{rse}/attr/", attributes, methods=["GET"]),
        Route("/rses/{rse}/usage", usage, methods=["GET"]),
        Route("/rses/{rse}/lfns2pfns", lfns2pfns, methods=["GET"]),
    ]


def _availability_bits(flags: dict[str, bool]) -> int:
    """Rucio's integer form of the three flags: read 4, write 2, delete 1."""
    return 4 * flags["availability_read"] + 2 * flags["availability_write"] + flags["availability_delete"]
