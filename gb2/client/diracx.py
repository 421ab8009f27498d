"""Client for DiracX: OAuth2 device-flow login, jobs and sandboxes.

Speaks DiracX 0.7's wire format (paths, bodies, status codes, the 206 +
Content-Range paging of searches), so the same code runs against a real DiracX
and against gb2's embedded server.
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gb2 import DIRACX_CLIENT_ID
from gb2.client.http import Api, Response, log_retry, raise_for_response
from gb2.client.tokens import TokenStore, claims
from gb2.errors import (
    AuthError,
    BadInput,
    NotLoggedIn,
    NotOffered,
    RequestRefused,
    ServerUnreachable,
    TokenExpired,
)

if TYPE_CHECKING:
    import httpx

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: DiracX caps ``per_page`` at 10,000.
MAX_PER_PAGE = 10000
#: Refresh the access token when it has less than this many seconds left.
REFRESH_MARGIN = 60.0
#: Device flows one login may start when answers carrying the tokens are lost.
LOGIN_FLOWS = 3


class LoginAnswerLost(AuthError):
    """The server answered a device-code poll with the tokens, but the answer never arrived."""


def utc_timestamp() -> str:
    """Status updates are ordered by the client's timestamp: take it fresh, in UTC."""
    return datetime.now(timezone.utc).isoformat()


@dataclass
class SearchPage:
    rows: list[dict[str, Any]]
    total: int
    first: int
    last: int
    #: With ``keys`` answered by a server that renames (gb2's extension): the rows as the
    #: server sent them (a JSON list, keys renamed), not decoded (``rows`` is then empty),
    #: and the page's jobs per status when ``Status`` was asked.
    raw: bytes | None = None
    status_counts: dict[str, int] | None = None
    #: With ``columns`` answered by a server that sends columns (gb2's extension): one list
    #: per parameter (``rows`` is then empty).
    columns: dict[str, list[Any]] | None = None


def operations_values(config: Any, vo: str, path: Sequence[str]) -> Iterator[Any]:
    """The value at ``path`` below ``Operations/<vo>``, then below ``Operations/Defaults``, of a
    configuration served at ``GET /api/config/`` (None where a section lacks it): a caller takes
    the first it can use, as DIRAC's CS merges a VO's section over the defaults."""
    operations = config.get("Operations") if isinstance(config, dict) else None
    for section in (vo, "Defaults"):
        node: Any = operations.get(section) if isinstance(operations, dict) else None
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        yield node


def _status_counts(response: Response) -> dict[str, int] | None:
    """The page's jobs per status that a gb2 server sends with its extensions (``Gb2-Status-Counts``)."""
    counts = response.headers.get("gb2-status-counts")
    return {str(k): int(v) for k, v in jsonlib.loads(counts).items()} if counts else None


def _content_range(header: str | None, count: int) -> tuple[int, int, int]:
    """Parse ``jobs 0-99/1234`` (or ``jobs */1234``)."""
    if not header:
        return 0, max(count - 1, 0), count
    try:
        _, spec = header.split(" ", 1)
        span, total = spec.split("/", 1)
        if span == "*":
            return 0, -1, int(total)
        first, last = span.split("-", 1)
        return int(first), int(last), int(total)
    except ValueError as exc:
        raise RequestRefused(f"DiracX sent an unreadable Content-Range: {header!r}") from exc


class DiracX:
    """DiracX REST client. Tokens come from a :class:`TokenStore` or a fixed access token."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenStore | None = None,
        *,
        access_token: str | None = None,
        client: httpx.Client | None = None,
        revive: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._fixed_token = access_token
        self._cached: dict[str, Any] | None = None
        self._config: dict[str, Any] | None = None
        self._refresh_lock = threading.Lock()
        self.api = Api("DiracX", self.base_url, self._auth_headers, client, revive)

    # -- tokens ----------------------------------------------------------------------
    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def access_token(self) -> str:
        """A valid access token, refreshed first if it is about to expire."""
        if self._fixed_token:
            return self._fixed_token
        data = self._cached or (self.tokens.load() if self.tokens else None)
        if not data:
            raise NotLoggedIn()
        check_validity(data)
        if data["expires_at"] - REFRESH_MARGIN < time.time():
            data = self._refresh_locked(data)
        self._cached = data
        return data["access_token"]

    def _refresh_locked(self, stale: dict[str, Any]) -> dict[str, Any]:
        if self.tokens is None:
            raise TokenExpired()
        with self._refresh_lock, self.tokens.lock():
            current = self.tokens.load()
            # Another process may have refreshed while we waited for the lock.
            if current and current["access_token"] != stale["access_token"] and (
                current["expires_at"] - REFRESH_MARGIN > time.time()
            ):
                return current
            current = current or stale
            check_validity(current)
            refresh = current.get("refresh_token")
            if not refresh or current.get("refresh_expires_at", 0) < time.time():
                raise TokenExpired()
            try:
                response = self.api.request(
                    "POST",
                    "/api/auth/token",
                    idempotent=False,
                    auth=False,
                    data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": DIRACX_CLIENT_ID},
                )
            except AuthError as exc:
                raise TokenExpired(f"your login could not be renewed ({exc}); run gb2_proxy_init again") from exc
            return self.tokens.save(response.json(), **_extra(current))

    def refresh(self) -> dict[str, Any]:
        """Force a refresh now (e.g. after the server rejected a token)."""
        data = self._cached or (self.tokens.load() if self.tokens else None)
        if not data:
            raise NotLoggedIn()
        self._cached = self._refresh_locked(data)
        return self._cached

    def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Response:
        """A request with our token; on a 401, refresh once and try again."""
        try:
            return self.api.request(method, path, idempotent=idempotent, **kwargs)
        except AuthError:
            if self._fixed_token or self.tokens is None:
                raise
            self._cached = None
            self.refresh()
            return self.api.request(method, path, idempotent=idempotent, **kwargs)

    # -- login -----------------------------------------------------------------------
    def start_device_flow(self, scope: str) -> dict[str, Any]:
        # Safe to repeat: a lost answer only leaves an unused code that expires.
        response = self.api.request(
            "POST", "/api/auth/device", idempotent=True, auth=False,
            params={"client_id": DIRACX_CLIENT_ID, "scope": scope},
        )  # fmt: skip
        return response.json()

    def poll_device_flow(self, flow: dict[str, Any], *, interval: float = 5.0, timeout: float | None = None) -> dict:
        """Poll the token endpoint until the login is approved (RFC 8628).

        A poll that fails (no answer, a reset, a server error) is simply polled again
        until the flow expires. A poll is not retried at once, since a lost answer may
        have carried the tokens: the server has then used the code up, and the next
        poll says so (:class:`LoginAnswerLost`, after which :meth:`login` starts again).
        """
        deadline = time.monotonic() + (timeout if timeout is not None else float(flow.get("expires_in", 600)))
        answer_lost = False
        polls = 0
        while True:
            polls += 1
            failure: Exception | None = None
            try:
                response = self.api.request(
                    "POST", "/api/auth/token", idempotent=False, auth=False, check=False,
                    data={"grant_type": DEVICE_GRANT, "device_code": flow["device_code"], "client_id": DIRACX_CLIENT_ID},
                )  # fmt: skip
            except ServerUnreachable as exc:
                failure = exc
            else:
                if response.status_code == 200:
                    return response.json()
                if response.status_code >= 500:
                    failure = RequestRefused(f"HTTP {response.status_code}", status_code=response.status_code)
            if failure is not None:
                answer_lost = True
                if time.monotonic() + interval > deadline:
                    raise failure
                log_retry("DiracX device-code poll", polls, polls + 1, interval, failure)
                time.sleep(interval)
                continue
            error = _oauth_error(response)
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                if answer_lost and (response.status_code == 401 or error in ("invalid_grant", "expired_token")):
                    raise LoginAnswerLost(f"the answer to a login poll was lost and its code is used up ({error})")
                if error in ("expired_token", "access_denied"):
                    raise AuthError(f"login not completed: {error}")
                raise_for_response("DiracX", response)
                raise AuthError(f"login failed: {error}")
            if time.monotonic() + interval > deadline:
                raise AuthError("login not completed in time: run gb2_proxy_init again")
            time.sleep(interval)

    def login(
        self,
        scope: str,
        approve: Callable[[dict[str, Any]], None],
        *,
        interval: float = 5.0,
        **extra: Any,
    ) -> dict[str, Any]:
        """Device flow end to end; ``approve`` shows the code (or approves it) for the user.

        If the answer carrying the tokens is lost, the flow starts again with a new code
        (at most :data:`LOGIN_FLOWS` times).
        """
        for flow_number in range(1, LOGIN_FLOWS + 1):
            flow = self.start_device_flow(scope)
            approve(flow)
            try:
                response = self.poll_device_flow(flow, interval=interval)
                break
            except LoginAnswerLost as exc:
                if flow_number == LOGIN_FLOWS:
                    raise AuthError(f"login failed: {exc}; run gb2_proxy_init again") from exc
                log_retry("DiracX device flow (new code)", flow_number, LOGIN_FLOWS + 1, 0.0, exc)
        if self.tokens is not None:
            self._cached = self.tokens.save(response, scope=scope, server=self.base_url, **extra)
        return response

    def revoke(self) -> bool:
        """Revoke the refresh token on the server; True if there was one to revoke."""
        data = self.tokens.load() if self.tokens else None
        if not data or not data.get("refresh_token"):
            return False
        self.api.request(
            "POST", "/api/auth/revoke", idempotent=True, auth=False,
            data={"token": data["refresh_token"], "client_id": DIRACX_CLIENT_ID},
        )  # fmt: skip
        return True

    def userinfo(self) -> dict[str, Any]:
        return self._call("GET", "/api/auth/userinfo", idempotent=True).json()

    def token_claims(self) -> dict[str, Any]:
        return claims(self.access_token())

    def config(self) -> dict[str, Any]:
        """``GET /api/config/``: the grid's configuration (DIRAC's CS) as DiracX serves it; read once
        per client (a command's release check and its submission share one request)."""
        if self._config is None:
            self._config = self._call("GET", "/api/config/", idempotent=True).json()
        return self._config

    # -- jobs ------------------------------------------------------------------------
    def submit_jdl(self, jdls: list[str]) -> list[dict[str, Any]]:
        """``POST /api/jobs/jdl``. Not retried once sent: see ``gb2.jobs.submit`` for safe retries."""
        if not jdls:
            return []
        return self._call("POST", "/api/jobs/jdl", idempotent=False, json=jdls).json()

    def search(
        self,
        parameters: list[str] | None = None,
        search: list[dict[str, Any]] | None = None,
        sort: list[dict[str, Any]] | None = None,
        *,
        page: int = 1,
        per_page: int = 100,
        distinct: bool = False,
        keys: dict[str, str] | None = None,
        columns: bool = False,
    ) -> SearchPage:
        """``POST /api/jobs/search``: one page.

        gb2's extensions, which DiracX ignores (then ``rows`` as usual); a gb2 server sends the
        page's jobs per status with either. ``keys`` (``{"JobID": "job_id"}``): the rows with
        these keys, undecoded in :attr:`SearchPage.raw`, for a caller that prints them as they
        are. ``columns``: one list per parameter in :attr:`SearchPage.columns`, for a table."""
        body: dict[str, Any] = {"search": search or [], "sort": sort or [], "distinct": distinct}
        if parameters:
            body["parameters"] = parameters
        if keys and columns:
            raise ValueError("keys and columns are two ways of reading a page: ask for one")
        extension = {"Gb2-Row-Keys": jsonlib.dumps(keys, separators=(",", ":"))} if keys else None
        if columns:
            extension = {"Gb2-Page-Shape": "columns"}
        response = self._call(
            "POST", "/api/jobs/search", idempotent=True, json=body,
            params={"page": page, "per_page": per_page}, check=False, headers=extension,
        )  # fmt: skip
        if response.status_code == 416:
            _, _, total = _content_range(response.headers.get("content-range"), 0)
            return SearchPage([], total, 0, -1)
        raise_for_response("DiracX", response)
        if keys and response.headers.get("gb2-row-keys") == "applied":
            status_counts = _status_counts(response)
            size = sum(status_counts.values()) if status_counts is not None else len(jsonlib.loads(response.content))
            first, last, total = _content_range(response.headers.get("content-range"), size)
            return SearchPage([], total, first, last, raw=response.content, status_counts=status_counts)
        if columns and response.headers.get("gb2-page-shape") == "columns":
            found = response.json()
            first, last, total = _content_range(response.headers.get("content-range"),
                                                len(next(iter(found.values()), [])))  # fmt: skip
            return SearchPage([], total, first, last, status_counts=_status_counts(response), columns=found)
        rows = response.json()
        first, last, total = _content_range(response.headers.get("content-range"), len(rows))
        return SearchPage(rows, total, first, last)

    def iter_search(
        self,
        parameters: list[str] | None = None,
        search: list[dict[str, Any]] | None = None,
        sort: list[dict[str, Any]] | None = None,
        **paging: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every matching job, one at a time (see :meth:`iter_search_results` for ``paging``)."""
        for rows in self.iter_search_pages(parameters, search, sort, **paging):
            yield from rows

    def iter_search_pages(
        self, parameters: list[str] | None = None, search: list[dict[str, Any]] | None = None,
        sort: list[dict[str, Any]] | None = None, **paging: Any,
    ) -> Iterator[list[dict[str, Any]]]:  # fmt: skip
        """Every matching job, a page of rows at a time (see :meth:`iter_search_results`)."""
        for page in self.iter_search_results(parameters, search, sort, **paging):
            yield page.rows

    def iter_search_results(
        self,
        parameters: list[str] | None = None,
        search: list[dict[str, Any]] | None = None,
        sort: list[dict[str, Any]] | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        parallel: int = 4,
        keys: dict[str, str] | None = None,
        columns: bool = False,
    ) -> Iterator[SearchPage]:
        """Every matching job, a page at a time (a caller can work on a page while the next ones
        come); the later pages are fetched in parallel (``parallel`` at once), and given in order.
        With ``keys`` or ``columns``: see :meth:`search`.

        A sort on JobID is added so that pages are stable while jobs change state.
        """
        sort = list(sort or [])
        if not any(s.get("parameter") == "JobID" for s in sort):
            sort.append({"parameter": "JobID", "direction": "asc"})
        first = self.search(parameters, search, sort, page=1, per_page=per_page, keys=keys, columns=columns)
        yield first
        pages = (first.total + per_page - 1) // per_page
        if pages <= 1:
            return
        from gb2.workers import worker_pool

        with worker_pool(parallel) as pool:
            futures = [
                pool.submit(self.search, parameters, search, sort, page=p, per_page=per_page, keys=keys,
                            columns=columns)
                for p in range(2, pages + 1)
            ]
            for future in futures:
                yield future.result()

    def status_history(self, job_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """Each job's status records, oldest first (``Status``, ``MinorStatus``, ``ApplicationStatus``,
        ``StatusTime``, ``Source``): DiracX's ``LoggingInfo`` pseudo-parameter of the search,
        a thousand jobs per request."""
        ids = sorted({int(j) for j in job_ids})
        history: dict[int, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            condition = [{"parameter": "JobID", "operator": "in", "values": chunk}]
            for row in self.iter_search(["JobID", "LoggingInfo"], condition, per_page=len(chunk)):
                history[int(row["JobID"])] = list(row.get("LoggingInfo") or [])
        return history

    def job_jdls(self, job_ids: Iterable[int]) -> dict[int, str]:
        """Each job's JDL, as DIRAC's JobMonitoring gives it. gb2's server answers the ``JDL``
        search pseudo-parameter; DiracX 0.7 has no way to read a JDL back (:class:`NotOffered`)."""
        rows = self._pseudo(job_ids, "JDL", "JDL")
        return {job: str(row["JDL"]) for job, row in rows.items() if row.get("JDL")}

    def job_parameters(self, job_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """Each job's parameters (what heartbeats and metadata set, e.g. ``StandardOutput``): the
        ``JobParameters`` pseudo-parameter of gb2's server; DiracX 0.7 stores them but cannot
        give them back (:class:`NotOffered`)."""
        rows = self._pseudo(job_ids, "JobParameters", "parameters")
        return {job: dict(row.get("JobParameters") or {}) for job, row in rows.items()}

    def _pseudo(self, job_ids: Iterable[int], name: str, what: str) -> dict[int, dict[str, Any]]:
        ids = sorted({int(j) for j in job_ids})
        out: dict[int, dict[str, Any]] = {}
        try:
            for start in range(0, len(ids), 1000):
                condition = [{"parameter": "JobID", "operator": "in", "values": ids[start : start + 1000]}]
                for row in self.iter_search(["JobID", name], condition, per_page=1000):
                    out[int(row["JobID"])] = row
        except RequestRefused as exc:
            if exc.status_code == 400 and "nrecognised parameter" in str(exc):
                raise NotOffered(f"this DiracX server cannot give a job's {what} back (DiracX 0.7 keeps them "
                                 "but has no route to read them)", status_code=400) from None  # fmt: skip
            raise
        return out

    def site_mask(self) -> dict[str, dict[str, Any]]:
        """``GET /api/rss/site``: each site's status, ``{"all": {"allowed": bool, "reason"|"warnings"}}``."""
        return self._call("GET", "/api/rss/site", idempotent=True).json()

    def summary(self, grouping: list[str], search: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        body = {"grouping": grouping, "search": search or []}
        return self._call("POST", "/api/jobs/summary", idempotent=True, json=body).json()

    def set_status(self, updates: dict[int, dict[str, dict[str, Any]]], *, force: bool = False) -> dict[str, Any]:
        """``PATCH /api/jobs/status`` with DiracX's ``{job: {timestamp: update}}`` body."""
        body = {str(job): value for job, value in updates.items()}
        params = {"force": "true"} if force else None
        return self._call("PATCH", "/api/jobs/status", idempotent=True, json=body, params=params).json()

    def set_job_status(
        self,
        job_ids: Iterable[int],
        *,
        status: str | None = None,
        minor: str | None = None,
        application: str | None = None,
        source: str = "gb2",
        force: bool = False,
    ) -> dict[str, Any]:
        update = {"Source": source}
        for key, value in (("Status", status), ("MinorStatus", minor), ("ApplicationStatus", application)):
            if value is not None:
                update[key] = value
        ts = utc_timestamp()
        return self.set_status({int(j): {ts: dict(update)} for j in job_ids}, force=force)

    def kill(self, job_ids: Iterable[int]) -> dict[str, Any]:
        return self.set_job_status(job_ids, status="Killed", minor="Marked for termination", source="User")

    def delete(self, job_ids: Iterable[int]) -> dict[str, Any]:
        return self.set_job_status(job_ids, status="Deleted", minor="Marked for deletion", source="User")

    def heartbeat(self, data: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        body = {str(job): value for job, value in data.items()}
        return self._call("PATCH", "/api/jobs/heartbeat", idempotent=True, json=body).json()

    def reschedule(self, job_ids: list[int], *, reset: bool = False) -> dict[str, Any]:
        params = {"reset_jobs": "true"} if reset else None
        body = {"job_ids": [int(j) for j in job_ids]}
        return self._call("POST", "/api/jobs/reschedule", idempotent=False, json=body, params=params).json()

    def set_metadata(self, updates: dict[int, dict[str, Any]]) -> None:
        body = {str(job): value for job, value in updates.items()}
        self._call("PATCH", "/api/jobs/metadata", idempotent=True, json=body)

    # -- sandboxes -------------------------------------------------------------------
    def upload_sandbox(self, data: bytes, fmt: str = "tar.bz2") -> str:
        """Upload an archive (deduplicated by checksum); returns its ``SB:`` PFN."""
        if not data:
            raise BadInput("refusing to upload an empty sandbox")
        from gb2.jobs.sandbox import sha256_hex

        info = {"checksum_algorithm": "sha256", "checksum": sha256_hex(data), "size": len(data), "format": fmt}
        grant = self._call("POST", "/api/jobs/sandbox", idempotent=True, json=info).json()
        if grant.get("url"):
            # The presigned POST goes to the object store, not to DiracX: no bearer token.
            self.api.request(
                "POST", grant["url"], idempotent=True, auth=False,
                data=grant.get("fields") or {}, files={"file": ("file", data)},
            )  # fmt: skip
        return grant["pfn"]

    def sandbox_download_url(self, pfn: str) -> str:
        return self._call("GET", "/api/jobs/sandbox", idempotent=True, params={"pfn": pfn}).json()["url"]

    def download_sandbox(self, pfn: str, dest: Path | None = None) -> bytes:
        url = self.sandbox_download_url(pfn)
        data = self.api.request("GET", url, idempotent=True, auth=False).content
        if dest is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.part")
            tmp.write_bytes(data)
            tmp.replace(dest)
        return data

    def job_sandboxes(self, job_id: int) -> dict[str, list[str]]:
        return self._call("GET", f"/api/jobs/{int(job_id)}/sandbox", idempotent=True).json()

    def job_sandbox(self, job_id: int, kind: str) -> list[str]:
        return self._call("GET", f"/api/jobs/{int(job_id)}/sandbox/{kind}", idempotent=True).json()

    def assign_output_sandbox(self, job_id: int, pfn: str) -> None:
        self._call("PATCH", f"/api/jobs/{int(job_id)}/sandbox/output", idempotent=True, json=pfn)

    def unassign_sandboxes(self, job_ids: list[int]) -> None:
        self._call("POST", "/api/jobs/sandbox/unassign", idempotent=True, json={"job_ids": [int(j) for j in job_ids]})


def _oauth_error(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return body["error"]
        detail = body.get("detail")
        if isinstance(detail, dict) and isinstance(detail.get("error"), str):
            return detail["error"]
        if isinstance(detail, str):
            return detail
    return f"HTTP {response.status_code}"


def _extra(data: dict[str, Any]) -> dict[str, Any]:
    """Bookkeeping fields of the cache that a refresh keeps."""
    return {k: v for k, v in data.items() if k in ("scope", "server", "group", "profile", "requested_lifetime", "valid_until")}


def check_validity(data: dict[str, Any]) -> None:
    """Honour the validity the user asked for (gb2_proxy_init -v): past it, the login is over."""
    valid_until = data.get("valid_until")
    if valid_until and float(valid_until) < time.time():
        raise TokenExpired("the validity you asked for with gb2_proxy_init -v has ended; run gb2_proxy_init again")
