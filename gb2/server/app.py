"""The embedded server's ASGI application: DiracX routes, Rucio routes, storage.

Each area lives in its own module exposing ``setup(state)`` (schema, services)
and ``routes(state)``; this module only assembles them and runs the engine for
the lifetime of the application.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from gb2.server.state import ServerState, request_base_url

log = logging.getLogger("gb2.server")

#: (module, mount prefix). DiracX paths sit at the root, Rucio's under /rucio.
#: Sandbox routes use full paths and come before the ``/api/jobs`` mount, which
#: would otherwise swallow ``/api/jobs/sandbox``.
AREAS: tuple[tuple[str, str], ...] = (
    ("gb2.server.diracx.routes.wellknown", ""),
    ("gb2.server.diracx.routes.config", ""),
    ("gb2.server.diracx.routes.rss", ""),
    ("gb2.server.diracx.routes.auth", "/api/auth"),
    ("gb2.server.diracx.routes.sandbox", ""),
    ("gb2.server.diracx.routes.jobs", "/api/jobs"),
    ("gb2.server.storage", ""),
    ("gb2.server.rucio.service", "/rucio"),
)


def create_app(state: ServerState) -> _ActivityMiddleware:
    modules = [importlib.import_module(name) for name, _ in AREAS]
    for module in modules:  # every service exists before any route is built
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(state)
    routes: list[BaseRoute] = []
    for module, (_, prefix) in zip(modules, AREAS, strict=True):
        area_routes = module.routes(state)
        if prefix:
            routes.append(Mount(prefix, routes=area_routes))
        else:
            routes.extend(area_routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if state.settings.run_engine:
            from gb2.engine.engine import Engine

            state.engine = Engine(state)
            state.engine.start()
        try:
            yield
        finally:
            if state.engine is not None:
                state.engine.stop()
                state.engine = None

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gb2 = state
    return _ActivityMiddleware(app, state)


class _ActivityMiddleware:
    """Records when the last request arrived, for the idle shutdown (health probes,
    which gb2 sends to see whether the server is up, do not count as activity), and
    which base URL the request's answers carry (the public one behind a proxy)."""

    def __init__(self, app: Starlette, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith("/api/health/"):
            self.state.last_activity = time.monotonic()
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1") or None
        forwarded = b"x-forwarded-for" in headers or b"forwarded" in headers
        token = request_base_url.set(self.state.base_for(host, forwarded))
        try:
            await self.app(scope, receive, send)
        finally:
            request_base_url.reset(token)
