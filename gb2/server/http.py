"""Response and error helpers shared by the embedded server's routes.

DiracX answers errors as ``{"detail": ...}`` JSON; Rucio answers them as an
``application/octet-stream`` JSON body ``{"ExceptionClass", "ExceptionMessage"}``
repeated in headers. Each route family uses its decorator so that every error
leaves the server in the shape the real service uses.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gb2.server.auth import AuthFailure

log = logging.getLogger("gb2.server")

Handler = Callable[[Request], Awaitable[Response]]

OUT_OF_RANGE = "a number in the request is out of range (64-bit integers)"
#: SQLite stores integers in 64 bits; a request with a bigger one is refused with 400.
INT64 = range(-(2**63), 2**63)


def check_int64(values: Any) -> None:
    """Raise :class:`ApiError` 400 for an integer SQLite cannot store, before a query runs
    (a streamed response cannot turn into an error once it has started)."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
            raise ApiError(400, OUT_OF_RANGE, "InvalidValueForKey")


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def json_response(data: Any, status_code: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(data), status_code=status_code, headers=headers, media_type="application/json")


class ApiError(Exception):
    """An error a route wants to return, in the shape of its service."""

    def __init__(self, status_code: int, detail: Any, exc_class: str | None = None) -> None:
        super().__init__(str(detail))
        self.status_code = status_code
        self.detail = detail
        self.exc_class = exc_class or _default_exc_class(status_code)


def _default_exc_class(status: int) -> str:
    return {
        400: "InvalidObject",
        401: "CannotAuthenticate",
        403: "AccessDenied",
        404: "DataIdentifierNotFound",
        406: "UnsupportedRequestedContentType",
        409: "Duplicate",
    }.get(status, "RucioException")


async def read_json(request: Request) -> Any:
    body = await request.body()
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "Request body is not valid JSON", "ValueError") from exc


def threadpool(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
    """Run blocking work (SQLite, files) off the event loop."""
    return run_in_threadpool(fn, *args, **kwargs)


def diracx_route(handler: Handler) -> Handler:
    """Turn exceptions into DiracX-shaped error responses."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except AuthFailure as exc:
            if exc.status_code == 400 and exc.detail in _OAUTH_ERRORS:
                return json_response({"error": exc.detail}, 400)
            return json_response({"detail": exc.detail}, exc.status_code)
        except ApiError as exc:
            return json_response({"detail": exc.detail}, exc.status_code)
        except OverflowError:  # a number beyond SQLite's 64-bit integers: the request's fault
            return json_response({"detail": OUT_OF_RANGE}, 400)
        except Exception:
            log.exception("internal error in %s", request.url.path)
            return json_response({"detail": "Internal server error"}, 500)

    return wrapper


_OAUTH_ERRORS = {"authorization_pending", "slow_down", "expired_token", "invalid_grant", "access_denied"}


def rucio_error(status_code: int, exc_class: str, message: str) -> Response:
    body = dumps({"ExceptionClass": exc_class, "ExceptionMessage": message})
    headers = {"ExceptionClass": exc_class, "ExceptionMessage": _header_safe(message)}
    return Response(body, status_code=status_code, headers=headers, media_type="application/octet-stream")


def _header_safe(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1").replace("\n", " ")[:1000]


def rucio_route(handler: Handler) -> Handler:
    """Turn exceptions into Rucio-shaped error responses."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except AuthFailure as exc:
            exc_class = "ValueError" if exc.status_code == 400 else "CannotAuthenticate"
            return rucio_error(exc.status_code, exc_class, exc.detail)
        except ApiError as exc:
            return rucio_error(exc.status_code, exc.exc_class, str(exc.detail))
        except OverflowError:
            return rucio_error(400, "InvalidValueForKey", OUT_OF_RANGE)
        except Exception:
            log.exception("internal error in %s", request.url.path)
            return rucio_error(500, "RucioException", "An unknown exception occurred.")

    return wrapper
