"""The web view's ASGI application: routes, templates and error pages.

Handlers are plain functions (Starlette runs them in its thread pool) that call
the gb2 library with the server's :class:`gb2.session.Session`. A request with the
header ``X-Gb2-Live: 1`` (the page's own refresh) gets only the page's live part.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gb2.errors import AuthError, BadInput, Forbidden, Gb2Error, NotFound, ServerUnreachable
from gb2.jobs.states import ALL_STATES
from gb2.web import actions
from gb2.web.access import Access, AccessGate
from gb2.web.cache import VersionCache
from gb2.web.filters import PROJECT_STATES, JobFilter, ProjectFilter
from gb2.web.jobview import job_view
from gb2.web.projectlist import project_list
from gb2.web.projectview import project_view

HERE = Path(__file__).resolve().parent
LIVE_HEADER = "x-gb2-live"
STATUS_OF = {NotFound: 404, BadInput: 400, AuthError: 401, Forbidden: 403, ServerUnreachable: 502}
NOTICES = 32


def _parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def ago(text: Any) -> str:
    """'3 min ago' for a DiracX time stamp (UTC)."""
    dt = _parse_time(text)
    if dt is None:
        return "—"
    seconds = int((datetime.now(timezone.utc) - dt).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now" if seconds < 5 else f"{seconds} s ago"


def when(text: Any) -> str:
    """A DiracX time stamp as 'YYYY-MM-DD HH:MM:SS UTC'."""
    dt = _parse_time(text)
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt else "—"


def size(n: Any) -> str:
    from gb2.ui.output import human_bytes

    return "—" if n is None else human_bytes(int(n))


def percent(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %" if x >= 0.01 or x == 0 else "<1 %"


class WebApp:
    """The state the handlers share: the session, access control, caches and notices."""

    def __init__(self, session: Any, access: Access, *, live_seconds: float = 3.0) -> None:
        self.session = session
        self.access = access
        self.live_seconds = live_seconds
        self.cache = VersionCache()
        self.notices: dict[str, str] = {}
        self._notice_ids = itertools.count(1)
        self._lock = threading.Lock()
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)  # fmt: skip
        self.env.filters.update(ago=ago, when=when, size=size, percent=percent)
        self.env.globals.update(project_states=PROJECT_STATES, job_states=ALL_STATES)

    # -- rendering ---------------------------------------------------------------------------
    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        live = request.headers.get(LIVE_HEADER) == "1"
        name = template.replace(".html", "_live.html") if live and "live" in context else template
        session_id = request.scope.get("state", {}).get("web_session", "")
        html = self.env.get_template(name).render(
            request=request, user=self._user(), profile=self.session.profile.name,
            csrf=self.access.csrf(session_id), live_seconds=self.live_seconds, **context,
        )  # fmt: skip
        return HTMLResponse(html, status_code=status_code)

    def _user(self) -> str:
        try:
            return self.session.username
        except Gb2Error:
            return "?"

    def error(self, request: Request, exc: Gb2Error) -> HTMLResponse:
        code = next((c for cls, c in STATUS_OF.items() if isinstance(exc, cls)), 502)
        return self.render(request, "error.html", status_code=code, message=str(exc))

    def notice(self, text: str) -> str:
        with self._lock:
            key = str(next(self._notice_ids))
            self.notices[key] = text
            while len(self.notices) > NOTICES:
                self.notices.pop(next(iter(self.notices)))
        return key

    # -- pages -------------------------------------------------------------------------------
    def projects(self, request: Request) -> Response:
        flt = ProjectFilter.from_query(request.query_params)
        try:
            listing = project_list(self.session, flt)
        except Gb2Error as exc:
            return self.error(request, exc)
        return self.render(request, "projects.html", live=True, listing=listing, flt=flt,
                           now=datetime.now(timezone.utc))  # fmt: skip

    def project(self, request: Request) -> Response:
        name = request.path_params["project"]
        flt = JobFilter.from_query(request.query_params)
        try:
            view = project_view(self.session, name, flt, self.cache)
        except Gb2Error as exc:
            return self.error(request, exc)
        notice = self.notices.get(request.query_params.get("notice", ""))
        return self.render(request, "project.html", live=True, view=view, jflt=flt, notice=notice)

    def job(self, request: Request) -> Response:
        try:
            view = job_view(self.session, int(request.path_params["job_id"]), self.cache)
        except Gb2Error as exc:
            return self.error(request, exc)
        return self.render(request, "job.html", live=True, view=view)

    # -- actions -----------------------------------------------------------------------------
    def confirm(self, request: Request) -> Response:
        p = request.path_params
        try:
            wanted = actions.parse(p["action"], p["project"], request.query_params.get("cluster"))
            plan = actions.plan(self.session, wanted)
        except Gb2Error as exc:
            return self.error(request, exc)
        return self.render(request, "confirm.html", wanted=wanted, plan=plan, listed=actions.LISTED)

    async def act(self, request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        form = await request.form()
        session_id = request.scope.get("state", {}).get("web_session", "")
        if not self.access.csrf_ok(session_id, str(form.get("csrf") or ""), request.headers.get("origin")):
            return self.render(request, "error.html", status_code=403,
                               message="this action did not come from this page (its CSRF token is missing or stale): "
                                       "go back, reload the page and try again")  # fmt: skip
        p = request.path_params
        cluster = str(form.get("cluster") or "") or None
        try:
            wanted = actions.parse(p["action"], p["project"], cluster)
            outcome = await run_in_threadpool(actions.run, self.session, wanted)
        except Gb2Error as exc:
            return self.error(request, exc)
        key = self.notice(actions.outcome_text(outcome))
        return RedirectResponse(f"/p/{quote(p['project'])}?notice={key}", status_code=303)


def create_app(session: Any, access: Access, *, live_seconds: float = 3.0) -> Starlette:
    web = WebApp(session, access, live_seconds=live_seconds)
    routes = [
        Route("/", web.projects),
        Route("/p/{project}", web.project),
        Route("/p/{project}/{action}", web.confirm, methods=["GET"]),
        Route("/p/{project}/{action}", web.act, methods=["POST"]),
        Route("/j/{job_id:int}", web.job),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(AccessGate, access=access)])
    app.state.web = web
    return app
