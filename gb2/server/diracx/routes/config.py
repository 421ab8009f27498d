"""DiracX's ``GET /api/config/``: the grid's configuration (DIRAC's CS) as JSON.

The shape is DiracX 0.7's (``DIRAC``, ``Operations/<vo>``, ``Registry/<vo>``), with
the settings this server really applies, and two additions DiracX's own schema does
not have: ``Operations/<vo>/SoftwareReleases/basf2``, the basf2 releases this grid
offers (what ``gb2_check_release`` lists and ``gbasf2 -s`` is checked against; see
:mod:`gb2.jobs.releases`), and ``Operations/<vo>/JobDescription/MaxJobsPerSubmission``,
how many jobs one submission call may carry here (DiracX 0.7 takes 20; see
:mod:`gb2.jobs.submit`). Like DiracX it needs a valid token and answers with an
``ETag``, and ``304`` to a matching ``If-None-Match``.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server import topology
from gb2.server.http import diracx_route, dumps
from gb2.server.state import ServerState


def sites(state: ServerState) -> dict:
    """DIRAC's ``Resources/Sites/<grid>/<site>``: each site's storage, and one computing element
    whose queue says the workers' platform and how many jobs run there at once."""
    out: dict[str, dict] = {}
    for site in topology.SITES:
        grid = site.name.split(".", 1)[0]
        queue: dict = {"Platform": site.platform}
        if site.name in state.settings.site_slots:
            queue["MaxTotalJobs"] = state.settings.site_slots[site.name]
        out.setdefault(grid, {})[site.name] = {
            "SE": list(site.local_ses),
            "CEs": {f"ce.{site.name.lower()}": {"Platform": site.platform, "Queues": {"default": queue}}},
        }
    return out


def configuration(state: ServerState) -> dict:
    s = state.settings
    return {
        "DIRAC": {"NoSetup": False},
        "Operations": {
            s.vo: {
                "JobDescription": {"DefaultPriority": 1, "MinPriority": 0, "MaxPriority": 10,
                                   "MinCPUTime": s.min_cpu_time, "MaxJobsPerSubmission": s.max_jobs_per_submission},
                "Services": {"JobMonitoring": {"GlobalJobsInfo": s.global_jobs_info},
                             "JobScheduling": {"MaxRescheduling": s.max_rescheduling}},
                "SoftwareReleases": {"basf2": list(s.basf2_releases)},
            }
        },
        "Resources": {"Sites": sites(state)},
        "Registry": {
            s.vo: {
                "DefaultGroup": s.default_group,
                "Groups": {name: {"Properties": list(props)} for name, props in s.groups.items()},
            }
        },
    }  # fmt: skip


def routes(state: ServerState) -> list[Route]:
    @diracx_route
    async def serve_config(request: Request) -> Response:
        state.authority.authorize_header(request.headers.get("authorization"))
        body = dumps(configuration(state))
        etag = hashlib.sha1(body).hexdigest()
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    return [Route("/api/config/", serve_config, methods=["GET"]), Route("/api/config", serve_config, methods=["GET"])]
