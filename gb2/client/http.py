"""The HTTP layer under every service client: one pooled httpx client, retries, errors.

Retry policy (tenacity, exponential backoff with jitter):

* errors that prove the request never reached the server (connection refused,
  connect timeout, pool timeout) and ``429 Too Many Requests`` are retried for
  every call;
* read timeouts, dropped connections and ``502/503/504`` are retried only for
  idempotent calls: the server may already have acted on a non-idempotent one,
  and that case is the caller's to reconcile (see ``gb2.jobs.submit`` for jobs).

Failures that remain become :mod:`gb2.errors` exceptions with one-line messages.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from gb2 import __version__
from gb2.errors import (
    AuthError,
    Forbidden,
    NotFound,
    NotLoggedIn,
    RequestRefused,
    ServerUnreachable,
    TokenExpired,
)

USER_AGENT = f"gb2/{__version__}"
RETRY_STATUS_IDEMPOTENT = frozenset({429, 502, 503, 504})
RETRY_STATUS_ANY = frozenset({429})
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAYBE_SENT_ERRORS = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

_client: httpx.Client | None = None
_client_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """The process-wide connection pool (httpx clients are thread-safe)."""
    global _client
    with _client_lock:
        if _client is None or _client.is_closed:
            _client = httpx.Client(
                timeout=httpx.Timeout(float(os.environ.get("GB2_HTTP_TIMEOUT", "60")), connect=10.0),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
        return _client


class RetryableStatus(Exception):
    """Internal: a response whose status says "try again"."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def retry_settings() -> tuple[int, float, float]:
    """(attempts, first wait, max wait); ``GB2_RETRIES=n`` shortens it, e.g. in tests."""
    attempts = int(os.environ.get("GB2_RETRIES", "5"))
    initial = float(os.environ.get("GB2_RETRY_WAIT", "0.5"))
    return max(1, attempts), initial, max(initial, 10.0)


def _wait_with_retry_after(base: Callable[[RetryCallState], float]) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus):
            retry_after = exc.response.headers.get("retry-after", "")
            if retry_after.isdigit():
                return min(float(retry_after), 30.0)
        return base(state)

    return wait


def error_detail(response: httpx.Response) -> str:
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


def body_summary(response: httpx.Response) -> str:
    """A non-JSON error body (an HTML page from a wrong URL, a proxy's text) in one line:
    status, content type and the first meaningful line (an HTML page's title or heading)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    text = response.text if response.content else ""
    if "html" in kind or text.lstrip().startswith("<"):
        title = re.search(r"<(title|h1)[^>]*>(.*?)</\1>", text, re.S | re.I)
        text = re.sub(r"<[^>]+>", "\n", title.group(2) if title else text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or response.reason_phrase
    return f"HTTP {response.status_code} ({kind}): {line[:200]}" if line else f"HTTP {response.status_code} ({kind})"


def raise_for_response(service: str, response: httpx.Response) -> None:
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


class Api:
    """Requests to one service (DiracX, Rucio, a storage element) with retries and error mapping."""

    def __init__(
        self,
        service: str,
        base_url: str,
        auth_headers: Callable[[], Mapping[str, str]] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.auth_headers = auth_headers
        self._client = client

    @property
    def client(self) -> httpx.Client:
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

    def _retrying(self, idempotent: bool) -> Retrying:
        attempts, initial, maximum = retry_settings()
        statuses = RETRY_STATUS_IDEMPOTENT if idempotent else RETRY_STATUS_ANY

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, RetryableStatus):
                return exc.response.status_code in statuses
            if isinstance(exc, NOT_SENT_ERRORS):
                return True
            return idempotent and isinstance(exc, MAYBE_SENT_ERRORS)

        return Retrying(
            retry=retry_if_exception(retryable),
            wait=_wait_with_retry_after(wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)),
            stop=stop_after_attempt(attempts) | stop_after_delay(float(os.environ.get("GB2_RETRY_DEADLINE", "120"))),
            reraise=True,
        )

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
    ) -> httpx.Response:
        """Send a request; retry per the policy; raise a :class:`Gb2Error` on failure."""
        statuses = RETRY_STATUS_IDEMPOTENT if idempotent else RETRY_STATUS_ANY
        url = self.url(path)

        def attempt() -> httpx.Response:
            response = self.client.request(method, url, headers=self._headers(headers, auth), **kwargs)
            if response.status_code in statuses:
                raise RetryableStatus(response)
            return response

        try:
            response = self._retrying(idempotent)(attempt)
        except RetryableStatus as exc:
            response = exc.response
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(f"{self.service} at {self.base_url} did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.service} at {self.base_url}: {_reason(exc)}") from exc
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
    ) -> Iterator[httpx.Response]:
        """A streamed response (NDJSON, downloads). Only the opening is retried."""
        url = self.url(path)
        retrying = self._retrying(idempotent=True)

        def open_stream() -> tuple[Any, httpx.Response]:
            cm = self.client.stream(method, url, headers=self._headers(headers, auth), **kwargs)
            response = cm.__enter__()
            if response.status_code in RETRY_STATUS_IDEMPOTENT:
                response.read()
                cm.__exit__(None, None, None)
                raise RetryableStatus(response)
            return cm, response

        try:
            cm, response = retrying(open_stream)
        except RetryableStatus as exc:
            raise_for_response(self.service, exc.response)
            raise
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(f"{self.service} at {self.base_url} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.service} at {self.base_url}: {_reason(exc)}") from exc
        try:
            if check and response.status_code >= 400:
                response.read()
                raise_for_response(self.service, response)
            yield response
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"{self.service}: connection lost while reading: {_reason(exc)}") from exc
        finally:
            cm.__exit__(None, None, None)

    def ndjson(self, method: str, path: str, **kwargs: Any) -> Iterator[Any]:
        """Iterate over an ``application/x-json-stream`` response, one value per line."""
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Accept", "application/x-json-stream")
        with self.stream(method, path, headers=headers, **kwargs) as response:
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
