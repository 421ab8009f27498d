"""The Rucio half of the embedded server (mounted under ``/rucio``).

``setup`` creates the catalogue (tables, RSEs, scopes), registers it as
``state.services["rucio"]`` and seeds the sample catalogue on the first start
of a fresh data dir; ``routes`` assembles Rucio's REST routes.
"""

from __future__ import annotations

import logging

from starlette.routing import BaseRoute

from gb2.server.rucio.catalog import Catalog
from gb2.server.rucio.routes import accounts, auth, dids, replicas, rses, rules
from gb2.server.state import ServerState

log = logging.getLogger("gb2.server.rucio")


def setup(state: ServerState) -> None:
    catalog = Catalog(state)
    catalog.setup()
    state.services["rucio"] = catalog
    if state.settings.seed:
        from gb2.server.rucio.seed import seed_once

        seed_once(catalog)


def routes(state: ServerState) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for module in (auth, accounts, dids, replicas, rses, rules):
        out.extend(module.routes(state))
    return out
