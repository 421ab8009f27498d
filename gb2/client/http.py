"""The HTTP layer under every service client: requests, the retry policy, errors.

Requests go through :mod:`gb2.client.transport` (the standard library's http.client,
kept-alive connections per thread), which starts in a fraction of httpx's import time
and reads bodies faster. httpx carries what that transport does not do: requests for
which the environment names a proxy (``http_proxy``, ``https_proxy``, ``all_proxy``),
multipart uploads (``files=``), and a caller's own ``httpx.Client`` (tests use one to
inject faults). httpx is imported only then.

Retry policy (one for every call; :func:`retrying` is the shared helper, built on tenacity):

* every call is retried when the request provably never reached the server
  (connection refused, connect or pool timeout) and on ``429`` and ``503``, which
  say "not processed, try later";
* idempotent calls (reads, read-only POSTs such as searches, summaries and replica
  lists, and PUT/PATCH/DELETE that set a state) are also retried on read
  timeouts, dropped connections, truncated bodies and ``500/502/504``: the server
  may have acted, and acting twice does no harm;
* non-idempotent calls (creations) are not retried once they may have reached the
  server; the caller reconciles instead (``gb2.jobs.submit`` for jobs,
  ``gb2.jobs.project`` for the project container, ``gb2.jobs.control`` for reschedules);
* a streamed listing (NDJSON) cut mid-body is reopened and the values already
  given to the caller are skipped (the listings are ordered), so no row is repeated.

Retries are bounded: ``GB2_RETRIES`` attempts (default 6) and ``GB2_RETRY_DEADLINE``
seconds in all (default 120), with exponential waits with jitter from
``GB2_RETRY_WAIT`` (default 0.5 s) and the server's ``Retry-After``. Ctrl-C stops
them at once. Each retry is logged on the ``gb2.retry`` logger, which ``--debug``
prints on stderr (one line per retry). When the embedded server itself is gone,
``Api.revive`` (set by :class:`gb2.session.Session`) starts it again before the retry.
The first attempt of a call runs before tenacity is even imported: a command whose
calls all succeed at once never loads it.

Failures that remain become :mod:`gb2.errors` exceptions with one-line messages.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gb2.client import transport
from gb2.client.transport import USER_AGENT, http_timeout
from gb2.errors import (
    AuthError,
    Forbidden,
    NotFound,
    NotLoggedIn,
    RequestRefused,
    ServerUnreachable,
    TokenExpired,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["USER_AGENT", "http_timeout", "Api", "retrying", "raise_for_response"]

#: Statuses retried for every call: the server says it did not process the request.
RETRY_STATUS_ANY = frozenset({429, 503})
#: Statuses retried for idempotent calls only: the server may have acted.
RETRY_STATUS_IDEMPOTENT = RETRY_STATUS_ANY | {500, 502, 504}
#: Longest wait a server's Retry-After may impose on one retry.
MAX_RETRY_AFTER = 30.0

_client: httpx.Client | None = None
_client_timeout = 0.0
_client_lock = threading.Lock()

#: An answer of either transport (:class:`gb2.client.transport.Response` or ``Response``).
Response = Any


def shared_client() -> httpx.Client:
    """The process-wide httpx connection pool (httpx clients are thread-safe), for the requests
    the lean transport leaves to httpx."""
    global _client, _client_timeout
    import httpx

    with _client_lock:
        timeout = http_timeout()
        if _client is None or _client.is_closed or timeout != _client_timeout:
            _client_timeout = timeout
            _client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(transport.CONNECT_TIMEOUT, timeout)),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
        return _client


# -- what a failure below HTTP means for a retry -------------------------------------------------
# httpx's exceptions are consulted only if httpx is loaded: none can exist otherwise.


def _httpx() -> Any:
    return sys.modules.get("httpx")


def not_sent(exc: BaseException) -> bool:
    """The request provably never reached the server (refused, connect or pool timeout)."""
    if isinstance(exc, transport.NotSent):
        return True
    httpx = _httpx()
    return httpx is not None and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def maybe_sent(exc: BaseException) -> bool:
    """The request may have reached the server and its answer was lost (timeout, reset, cut)."""
    if isinstance(exc, transport.MaybeSent):
        return True
    httpx = _httpx()
    return httpx is not None and isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError,
                                                  httpx.WriteError, httpx.RemoteProtocolError))  # fmt: skip


def transport_failure(exc: BaseException) -> bool:
    if isinstance(exc, transport.TransportError):
        return True
    httpx = _httpx()
    return httpx is not None and isinstance(exc, httpx.TransportError)


def connection_refused(exc: BaseException) -> bool:
    """Nothing listens there (any more): the embedded server may need reviving."""
    if isinstance(exc, transport.ConnectError):
        return True
    httpx = _httpx()
    return httpx is not None and isinstance(exc, httpx.ConnectError)


def timed_out(exc: BaseException) -> bool:
    if isinstance(exc, (transport.ConnectTimeout, transport.ReadTimeout)):
        return True
    httpx = _httpx()
    return httpx is not None and isinstance(exc, httpx.TimeoutException)


class RetryableStatus(Exception):
    """Internal: a response whose status says "try again"."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class StreamCut(Exception):
    """Internal: a streamed body ended before its end (reset, truncation, half a line)."""


# -- the shared retry helper ---------------------------------------------------------------


def retry_settings() -> tuple[int, float, float, float]:
    """(attempts, first wait, longest wait, total deadline in seconds), from the environment."""
    attempts = int(os.environ.get("GB2_RETRIES", "6"))
    initial = float(os.environ.get("GB2_RETRY_WAIT", "0.5"))
    deadline = float(os.environ.get("GB2_RETRY_DEADLINE", "120"))
    return max(1, attempts), initial, max(initial, 10.0), max(0.0, deadline)


def backoff(attempt: int, initial: float, maximum: float) -> float:
    """Exponential wait after failed attempt ``attempt`` (1-based), with up to ``initial`` of jitter."""
    import random

    return min(maximum, initial * 2 ** (attempt - 1)) + random.uniform(0, initial)


def describe_failure(exc: BaseException | None) -> str:
    if exc is None:
        return "failed"
    if isinstance(exc, RetryableStatus):
        return f"HTTP {exc.response.status_code}"
    return f"{type(exc).__name__}: {_reason(exc)}"


def log_retry(what: str, attempt: int, attempts: int, wait: float, exc: BaseException | None) -> None:
    import logging

    logging.getLogger("gb2.retry").info("retry %d/%d in %.1f s: %s: %s", attempt, attempts - 1, wait, what,
                                        describe_failure(exc))  # fmt: skip


class Retry:
    """The retry loop every gb2 call shares (see :func:`retrying`): call it with the function
    to run. The first attempt runs directly; only a failure worth retrying hands the call to
    tenacity (imported then), which replays that failure as its first attempt and goes on."""

    def __init__(self, what: str, retryable: Callable[[BaseException], bool],
                 before_retry: Callable[[BaseException], None] | None) -> None:  # fmt: skip
        self.what = what
        self.retryable = retryable
        self.before_retry = before_retry

    def __call__(self, fn: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            return fn()
        except BaseException as exc:
            if not self.retryable(exc):
                raise
            first: BaseException | None = exc

        def attempt() -> Any:
            nonlocal first
            if first is not None:
                failure, first = first, None
                raise failure
            return fn()

        return self._tenacity(time.monotonic() - started)(attempt)

    def _tenacity(self, spent: float) -> Any:
        """Works with tenacity 8.2+ and 9; ``spent``: seconds the first attempt took (they count
        against the deadline)."""
        from tenacity import (
            RetryCallState,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            stop_after_delay,
        )

        attempts, initial, maximum, total = retry_settings()
        deadline = max(0.0, total - spent)
        what, before_retry = self.what, self.before_retry

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            seconds = backoff(state.attempt_number, initial, maximum)
            if isinstance(exc, RetryableStatus):
                retry_after = exc.response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    seconds = min(float(retry_after), MAX_RETRY_AFTER)
            left = deadline - (state.seconds_since_start or 0.0)
            return max(0.0, min(seconds, left))

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            sleep = state.next_action.sleep if state.next_action else 0.0
            log_retry(what, state.attempt_number, attempts, sleep, exc)
            if before_retry is not None and exc is not None:
                before_retry(exc)

        return Retrying(
            retry=retry_if_exception(self.retryable),
            wait=wait,
            stop=stop_after_attempt(attempts) | stop_after_delay(deadline),
            before_sleep=before_sleep,
            reraise=True,
        )


def retrying(what: str, retryable: Callable[[BaseException], bool], *,
             before_retry: Callable[[BaseException], None] | None = None) -> Retry:  # fmt: skip
    """The retry loop every gb2 call shares: bounded in attempts and total time, logged.

    ``retryable`` says which failures are worth another attempt; ``before_retry``
    runs before each retry (e.g. to reconcile a lost answer). Use as ``retrying(...)(fn)``.
    """
    return Retry(what, retryable, before_retry)


def retryable_failure(idempotent: bool) -> Callable[[BaseException], bool]:
    """The policy of the module docstring as a predicate."""
    statuses = RETRY_STATUS_IDEMPOTENT if idempotent else RETRY_STATUS_ANY

    def retryable(exc: BaseException) -> bool:
        if isinstance(exc, RetryableStatus):
            return exc.response.status_code in statuses
        if not_sent(exc):
            return True
        return idempotent and (isinstance(exc, StreamCut) or maybe_sent(exc))

    return retryable


def should_retry(response: Response, statuses: frozenset[int]) -> bool:
    """A status worth another attempt; not a 500 that names its cause (Rucio's ``ExceptionClass``
    on a refusal it reports as a server error): asking again would get the same answer."""
    if response.status_code not in statuses:
        return False
    return not (response.status_code == 500 and response.headers.get("ExceptionClass"))


def answer_lost(exc: BaseException) -> bool:
    """Did a call perhaps reach the server although no answer came back (the caller reconciles)?"""
    if isinstance(exc, ServerUnreachable):
        return True
    return isinstance(exc, RequestRefused) and (exc.status_code or 0) >= 500


# -- error mapping ---------------------------------------------------------------------------


def error_detail(response: Response) -> str:
    """The server's reason, from DiracX ``detail``, OAuth ``error`` or Rucio's exception fields."""
    message = response.headers.get("ExceptionMessage")
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        for key in ("detail", "ExceptionMessage", "error_description", "error", "message"):
            if key in body and body[key]:
                value = body[key]
                return value if isinstance(value, str) else json.dumps(value)
    if message:
        return message
    return body_summary(response)


def body_summary(response: Response) -> str:
    """A non-JSON error body (an HTML page from a wrong URL, a proxy's text) in one line:
    status, content type and the first meaningful line (an HTML page's title or heading)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    text = response.text if response.content else ""
    if "html" in kind or text.lstrip().startswith("<"):
        title = re.search(r"<(title|h1)[^>]*>(.*?)</\1>", text, re.S | re.I)
        text = re.sub(r"<[^>]+>", "\n", title.group(2) if title else text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or response.reason_phrase
    return f"HTTP {response.status_code} ({kind}): {line[:200]}" if line else f"HTTP {response.status_code} ({kind})"


def raise_for_response(service: str, response: Response) -> None:
    """Turn an error response into the matching :class:`Gb2Error`."""
    status = response.status_code
    if status < 400:
        return
    detail = error_detail(response)
    exc_class = response.headers.get("ExceptionClass", "")
    if status == 401 or exc_class == "CannotAuthenticate":
        if "expired" in detail.lower():
            raise TokenExpired(f"{service}: your login has expired ({detail}); run gb2_proxy_init again")
        raise AuthError(f"{service} rejected your credentials ({detail}); run gb2_proxy_init", status_code=status)
    if status == 400 and detail == "Token must be set.":
        raise NotLoggedIn(f"{service}: not logged in; run gb2_proxy_init first")
    if status == 403:
        raise Forbidden(f"{service}: permission denied: {detail}", status_code=status)
    if status == 404:
        raise NotFound(f"{service}: not found: {detail}", status_code=status)
    if status >= 500:
        raise RequestRefused(f"{service} failed with a server error ({status}): {detail}", status_code=status)
    raise RequestRefused(f"{service} refused the request: {detail}", status_code=status)


# -- requests ----------------------------------------------------------------------------------


class Api:
    """Requests to one service (DiracX, Rucio, a storage element) with retries and error mapping."""

    def __init__(
        self,
        service: str,
        base_url: str,
        auth_headers: Callable[[], Mapping[str, str]] | None = None,
        client: httpx.Client | None = None,
        revive: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.auth_headers = auth_headers
        self._client = client
        #: Called when the server refused the connection: starts the embedded server again.
        self.revive = revive

    @property
    def client(self) -> httpx.Client:
        """The httpx client of the requests httpx carries (see the module docstring)."""
        return self._client or shared_client()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def _headers(self, extra: Mapping[str, str] | None, auth: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if auth and self.auth_headers is not None:
            headers.update(self.auth_headers())
        if extra:
            headers.update(extra)
        return headers

    def _via_httpx(self, url: str, kwargs: Mapping[str, Any]) -> bool:
        return self._client is not None or "files" in kwargs or transport.proxy_for(url) is not None

    def _open(self, method: str, path: str, headers: dict[str, str], stream: bool,
              kwargs: dict[str, Any]) -> tuple[Response, Callable[[], None]]:  # fmt: skip
        """One exchange: (the response, what closes it)."""
        url = self.url(path)
        if not self._via_httpx(url, kwargs):
            response = transport.send(method, url, headers=headers, stream=stream, **kwargs)
            return response, response.close
        if not stream:
            response = self.client.request(method, url, headers=headers, **kwargs)
            return response, response.close
        cm = self.client.stream(method, url, headers=headers, **kwargs)
        return cm.__enter__(), lambda: cm.__exit__(None, None, None)

    def _retrying(self, what: str, idempotent: bool) -> Retry:
        def before_retry(exc: BaseException) -> None:
            if self.revive is not None and connection_refused(exc):
                self.revive()

        return retrying(f"{self.service} {what}", retryable_failure(idempotent), before_retry=before_retry)

    def _unreachable(self, exc: BaseException) -> ServerUnreachable:
        if timed_out(exc):
            return ServerUnreachable(f"{self.service} at {self.base_url} did not answer in time ({type(exc).__name__})")
        return ServerUnreachable(f"cannot reach {self.service} at {self.base_url}: {_reason(exc)}")

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        check: bool = True,
        **kwargs: Any,
    ) -> Response:
        """Send a request; retry per the policy; raise a :class:`Gb2Error` on failure."""
        statuses = RETRY_STATUS_IDEMPOTENT if idempotent else RETRY_STATUS_ANY

        def attempt() -> Response:
            response, _ = self._open(method, path, self._headers(headers, auth), False, kwargs)
            if should_retry(response, statuses):
                raise RetryableStatus(response)
            return response

        try:
            response = self._retrying(f"{method} {_short(path)}", idempotent)(attempt)
        except RetryableStatus as exc:
            response = exc.response
            if check:  # it kept saying "try later" for the whole retry budget
                raise ServerUnreachable(f"{self.service} kept failing (HTTP {response.status_code}, "
                                        f"{retry_settings()[0]} tries): {error_detail(response)}",
                                        status_code=response.status_code) from None  # fmt: skip
        except Exception as exc:
            if transport_failure(exc):
                raise self._unreachable(exc) from exc
            raise
        if check:
            raise_for_response(self.service, response)
        return response

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        check: bool = True,
        **kwargs: Any,
    ) -> Iterator[Response]:
        """A streamed response whose opening is retried (a read that fails later is the caller's:
        :meth:`ndjson` resumes listings)."""

        def open_stream() -> tuple[Response, Callable[[], None]]:
            response, close = self._open(method, path, self._headers(headers, auth), True, kwargs)
            if should_retry(response, RETRY_STATUS_IDEMPOTENT):
                try:
                    response.read()
                finally:
                    close()
                raise RetryableStatus(response)
            return response, close

        try:
            response, close = self._retrying(f"{method} {_short(path)}", True)(open_stream)
        except RetryableStatus as exc:  # still failing after the whole budget: an answer already read
            if check:
                raise_for_response(self.service, exc.response)
            yield exc.response
            return
        except Exception as exc:
            if transport_failure(exc):
                raise self._unreachable(exc) from exc
            raise
        try:
            if check and response.status_code >= 400:
                response.read()
                raise_for_response(self.service, response)
            yield response
        finally:
            close()

    def ndjson(
        self,
        method: str,
        path: str,
        *,
        error: Callable[[Response], None] | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Iterate over an ``application/x-json-stream`` response, one value per line.

        A body cut before its end (a reset, a truncated transfer, half a line) is
        requested again and the values already yielded are skipped, within the
        retry budget. ``error`` raises the error of a response >= 400 (default:
        :func:`raise_for_response`).
        """
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Accept", "application/x-json-stream")
        attempts, initial, maximum, deadline = retry_settings()
        started = time.monotonic()
        done = 0  # values given to the caller
        cuts = 0
        while True:
            try:
                with self.stream(method, path, headers=headers, check=False, **kwargs) as response:
                    if response.status_code >= 400:
                        response.read()
                        (error or (lambda r: raise_for_response(self.service, r)))(response)
                    skip = done
                    for value in _ndjson_values(response):
                        if skip:
                            skip -= 1
                            continue
                        done += 1
                        yield value
                return
            except StreamCut as exc:
                cuts += 1
                wait = backoff(cuts, initial, maximum)
                if cuts >= attempts or time.monotonic() - started + wait > deadline:
                    raise ServerUnreachable(f"{self.service}: connection lost while reading a listing "
                                            f"({cuts} tries): {exc}") from exc  # fmt: skip
                log_retry(f"{self.service} {method} {_short(path)} (resuming after {done} values)",
                          cuts, attempts, wait, exc)  # fmt: skip
                time.sleep(wait)


def probe(url: str, *, timeout: float) -> Response:
    """One GET without retries (a health check): the answer whatever its status;
    :class:`ServerUnreachable` if none came within ``timeout``. Carried as :class:`Api` carries requests."""
    try:
        if transport.proxy_for(url) is None:
            return transport.send("GET", url, timeout=timeout)
        import httpx

        return httpx.get(url, timeout=timeout, headers={"User-Agent": USER_AGENT})
    except Exception as exc:
        if transport_failure(exc):
            raise ServerUnreachable(f"cannot reach {url}: {_reason(exc)}") from exc
        raise


def _ndjson_values(response: Response) -> Iterator[Any]:
    """Values of an NDJSON body; :class:`StreamCut` if it ends early."""
    try:
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:  # the last line of a body cut short
                raise StreamCut(f"unreadable line ({_reason(exc)})") from exc
            yield value
    except Exception as exc:
        if transport_failure(exc):
            raise StreamCut(_reason(exc)) from exc
        raise


def _short(path: str) -> str:
    """A path for log lines: no query string (it may carry a presigned signature)."""
    return path.split("?", 1)[0][:120]


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
