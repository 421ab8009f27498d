"""DiracX's ``/api/jobs`` routes: submission, search, summary, status, heartbeat, reschedule."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gb2.server.auth import AuthorizedUser
from gb2.server.diracx.jobdb import OWNER_ONLY_PARAMETERS, Caller, JobDB, row_keys
from gb2.server.http import ApiError, diracx_route, dumps, json_response, read_json, threadpool
from gb2.server.state import ServerState


def caller_of(user: AuthorizedUser) -> Caller:
    return Caller(user.username, user.group, user.vo, user.properties)


def setup(state: ServerState) -> None:
    s = state.settings
    state.services["jobs"] = JobDB(
        state.db,
        max_rescheduling=s.max_rescheduling,
        max_jobs_per_submission=s.max_jobs_per_submission,
        min_cpu_time=s.min_cpu_time,
    )


def _job_ids(body: object) -> list[int]:
    if not isinstance(body, dict):
        raise ApiError(422, "The body must be an object keyed by job ID")
    try:
        return [int(k) for k in body]
    except ValueError as exc:
        raise ApiError(422, "Job IDs must be integers") from exc


def body_job_ids(body: object) -> list[int]:
    """The ``{"job_ids": [...]}`` body of reschedule and sandbox unassign."""
    if not isinstance(body, dict) or not isinstance(body.get("job_ids"), list):
        raise ApiError(422, "job_ids is required")
    try:
        return [int(j) for j in body["job_ids"]]
    except (TypeError, ValueError) as exc:
        raise ApiError(422, "job_ids must be integers") from exc


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("true", "1", "yes")


def routes(state: ServerState) -> list[Route]:
    jobs: JobDB = state.services["jobs"]
    authority = state.authority

    def user_of(request: Request) -> AuthorizedUser:
        return authority.authorize_header(request.headers.get("authorization"))

    def wake_engine() -> None:
        if state.engine is not None:
            state.engine.wake()

    @diracx_route
    async def submit(request: Request) -> Response:
        caller = caller_of(user_of(request))
        body = await read_json(request)
        inserted = await threadpool(jobs.submit, caller, body)
        wake_engine()
        return json_response(inserted, 201)

    @diracx_route
    async def search(request: Request) -> Response:
        user = user_of(request)
        if not (user.is_job_admin or "NormalUser" in user.properties):
            raise ApiError(403, "Forbidden")
        body = await read_json(request) or {}
        if not isinstance(body, dict):
            raise ApiError(422, "Invalid search body")
        try:
            page = int(request.query_params.get("page", 1))
            per_page = int(request.query_params.get("per_page", 100))
        except ValueError as exc:
            raise ApiError(422, "page and per_page must be integers") from exc
        conditions = list(body.get("search") or [])
        asked = body.get("parameters")
        private = OWNER_ONLY_PARAMETERS & set(asked) if isinstance(asked, list) else set()
        if (private or not state.settings.global_jobs_info) and not user.is_job_admin:
            # A job's JDL and parameters are its owner's (DIRAC's JobMonitoring policy).
            conditions.append({"parameter": "Owner", "operator": "eq", "value": user.username})
        query = jobs.query(body.get("parameters"), conditions, body.get("sort") or [],
                           distinct=bool(body.get("distinct", False)), page=page, per_page=per_page)  # fmt: skip
        keys = row_keys(request.headers.get("gb2-row-keys"))
        shape = request.headers.get("gb2-page-shape")
        if shape not in (None, "rows", "columns"):
            raise ApiError(422, "Gb2-Page-Shape must be rows or columns")
        found = await threadpool(jobs.page_json, query, keys, shape == "columns")
        headers = {}
        if found is None:
            total, rows = await threadpool(jobs.page, query)
            count, content = len(rows), dumps(rows)
        else:
            total, count, content, counts = found
            if keys:
                headers["Gb2-Row-Keys"] = "applied"
            if shape == "columns":
                headers["Gb2-Page-Shape"] = "columns"
            if counts is not None:
                headers["Gb2-Status-Counts"] = counts.decode()
        status = 200
        per_page = max(1, min(per_page, 10000))
        if not count and total > 0:
            headers["Content-Range"] = f"jobs */{total}"
            status = 416
        elif count < total:
            first = per_page * (max(page, 1) - 1)
            last = min(first + count, total) - 1
            headers["Content-Range"] = f"jobs {first}-{last}/{total}"
            status = 206
        return Response(content, status, headers, media_type="application/json")

    @diracx_route
    async def summary(request: Request) -> Response:
        user = user_of(request)
        body = await read_json(request)
        if not isinstance(body, dict) or "grouping" not in body:
            raise ApiError(422, "grouping is required")
        conditions = list(body.get("search") or [])
        if not state.settings.global_jobs_info and not user.is_job_admin:
            conditions.append({"parameter": "Owner", "operator": "eq", "value": user.username})
        return json_response(await threadpool(jobs.summary, body["grouping"], conditions))

    @diracx_route
    async def set_status(request: Request) -> Response:
        user = user_of(request)
        force = _flag(request, "force")
        if force and not user.is_job_admin:
            raise ApiError(403, "Forbidden")
        body = await read_json(request)
        ids = _job_ids(body)
        caller = caller_of(user)

        def apply() -> dict:
            jobs.check_access(caller, ids)
            return jobs.set_statuses({int(k): v for k, v in body.items()}, force=force)

        result = await threadpool(apply)
        wake_engine()
        return json_response(result)

    @diracx_route
    async def heartbeat(request: Request) -> Response:
        caller = caller_of(user_of(request))
        body = await read_json(request)
        ids = _job_ids(body)

        def apply() -> list:
            jobs.check_access(caller, ids)
            return jobs.heartbeat({int(k): v for k, v in body.items()})

        return json_response(await threadpool(apply))

    @diracx_route
    async def reschedule(request: Request) -> Response:
        caller = caller_of(user_of(request))
        ids = body_job_ids(await read_json(request))
        reset = _flag(request, "reset_jobs")

        def apply() -> dict:
            jobs.check_access(caller, ids)
            return jobs.reschedule(ids, reset=reset)

        result = await threadpool(apply)
        wake_engine()
        return json_response(result)

    @diracx_route
    async def metadata(request: Request) -> Response:
        caller = caller_of(user_of(request))
        body = await read_json(request)
        ids = _job_ids(body)

        def apply() -> None:
            jobs.check_access(caller, ids)
            jobs.set_metadata({int(k): v for k, v in body.items()})

        await threadpool(apply)
        return Response(status_code=204)

    return [
        Route("/jdl", submit, methods=["POST"]),
        Route("/search", search, methods=["POST"]),
        Route("/summary", summary, methods=["POST"]),
        Route("/status", set_status, methods=["PATCH"]),
        Route("/heartbeat", heartbeat, methods=["PATCH"]),
        Route("/reschedule", reschedule, methods=["POST"]),
        Route("/metadata", metadata, methods=["PATCH"]),
    ]
