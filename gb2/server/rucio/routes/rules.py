"""Rucio's ``/rules`` routes: add (201 with the JSON list of ids, labelled text/html), get, delete."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server.http import rucio_route, threadpool
from gb2.server.rucio import rules
from gb2.server.rucio.web import (
    JSON,
    account_of,
    body_of,
    catalog,
    check_accept,
    created,
    empty,
    json_response,
)
from gb2.server.state import ServerState


def routes(state: ServerState) -> list[Route]:
    cat = catalog(state)

    @rucio_route
    async def add(request: Request) -> Response:
        account = await account_of(state, request)
        body = await body_of(request)
        ids = await threadpool(rules.add_rules, cat, account, body)
        return created(json.dumps(ids))

    @rucio_route
    async def get(request: Request) -> Response:
        await account_of(state, request)
        check_accept(request, [JSON])
        return json_response(await threadpool(rules.get_rule, cat, request.path_params["rule_id"]))

    @rucio_route
    async def delete(request: Request) -> Response:
        account = await account_of(state, request)
        await threadpool(rules.delete_rule, cat, account, request.path_params["rule_id"])
        return empty()

    return [
        Route("/rules/", add, methods=["POST"]),
        Route("/rules", add, methods=["POST"]),
        Route("/rules/{rule_id}", get, methods=["GET"]),
        Route("/rules/{rule_id}", delete, methods=["DELETE"]),
    ]
