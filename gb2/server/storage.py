"""Storage elements: folders under the data dir, served over HTTP.

``GET``/``HEAD`` ``/se/<SE>/<lfn>`` read a file (byte ranges supported); ``PUT``
writes one through a temporary name, computing adler32 on the way and renaming
only when the whole body arrived (and matched ``X-Checksum-Adler32`` if sent);
``DELETE`` removes one. Any member of the VO may read; users may write only
below their own ``/belle/user/<name>/``.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from gb2.data.checksum import Adler32
from gb2.data.lfn import name_problem
from gb2.server.auth import AuthFailure
from gb2.server.http import ApiError, diracx_route, json_response, threadpool
from gb2.server.settings import ServerSettings
from gb2.server.state import ServerState
from gb2.server.topology import SE_NAMES


class _BigChunkFileResponse(FileResponse):
    chunk_size = 1 << 20


def se_path(settings: ServerSettings, se_name: str, lfn: str) -> Path:
    """Where the replica of ``lfn`` on ``se_name`` lives on disk (canonical names only)."""
    problem = name_problem(lfn)
    if problem:
        raise ApiError(400, f"invalid path {lfn!r}: {problem}")
    root = (settings.se_root / se_name).resolve()
    path = (root / lfn.lstrip("/")).resolve()
    if root not in path.parents:
        raise ApiError(400, f"invalid path {lfn!r}")
    return path


#: Percent-encoded bytes that would hide a separator or a NUL from the segment checks.
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c|00)", re.IGNORECASE)


def requested_lfn(request: Request) -> str:
    """The LFN of a ``/se/<SE>/<lfn>`` request, canonical or refused with 400.

    Authorisation must look at the name the file system will use, so the path is
    checked as sent (no encoded separators) and after decoding (no ``.``, ``..``
    or empty segments) before anyone compares it with a user's area.
    """
    raw = request.scope.get("raw_path") or b""
    if _ENCODED_SEPARATOR.search(raw):
        raise ApiError(400, "invalid path: encoded separators are not allowed")
    lfn = "/" + request.path_params["path"]
    problem = name_problem(lfn)
    if problem:
        raise ApiError(400, f"invalid path {lfn!r}: {problem}")
    return lfn


def http_pfn(base_url: str, se_name: str, lfn: str) -> str:
    return f"{base_url}/se/{se_name}{quote(lfn)}"


def file_pfn(settings: ServerSettings, se_name: str, lfn: str) -> str:
    return f"file://localhost{settings.se_root.resolve() / se_name}{lfn}"


def requesting_user(state: ServerState, request: Request) -> str:
    """The caller's user name, from a DiracX bearer token or a Rucio auth token."""
    rucio_token = request.headers.get("x-rucio-auth-token")
    if rucio_token:
        return state.authority.rucio_account(rucio_token)
    return state.authority.authorize_header(request.headers.get("authorization")).username


def may_write(username: str, lfn: str) -> bool:
    return lfn.startswith(f"/belle/user/{username}/")


def routes(state: ServerState) -> list[Route]:
    settings = state.settings

    def locate(request: Request) -> tuple[str, str, Path]:
        se_name = request.path_params["se"]
        if se_name not in SE_NAMES:
            raise ApiError(404, f"unknown storage element {se_name}")
        lfn = requested_lfn(request)
        return se_name, lfn, se_path(settings, se_name, lfn)

    @diracx_route
    async def read(request: Request) -> Response:
        requesting_user(state, request)
        _, lfn, path = locate(request)
        if not path.is_file():
            raise ApiError(404, f"no such file: {lfn}")
        return _BigChunkFileResponse(path, media_type="application/octet-stream")

    @diracx_route
    async def write(request: Request) -> Response:
        username = requesting_user(state, request)
        _, lfn, path = locate(request)
        if not may_write(username, lfn):
            raise AuthFailure(f"{username} may not write {lfn}", 403)
        overwrite = request.query_params.get("overwrite") == "true"
        if path.exists() and not overwrite:
            raise ApiError(409, f"file exists: {lfn}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part-{uuid.uuid4().hex}")
        adler = Adler32()
        size = 0
        try:
            with open(tmp, "wb") as f:
                async for chunk in request.stream():
                    if chunk:
                        adler.update(chunk)
                        size += len(chunk)
                        f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            expected = request.headers.get("x-checksum-adler32")
            if expected and expected.lower().rjust(8, "0") != adler.hexdigest():
                raise ApiError(400, f"adler32 mismatch: sent {expected}, received {adler.hexdigest()}")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return json_response({"lfn": lfn, "bytes": size, "adler32": adler.hexdigest()}, 201)

    @diracx_route
    async def delete(request: Request) -> Response:
        username = requesting_user(state, request)
        _, lfn, path = locate(request)
        if not may_write(username, lfn):
            raise AuthFailure(f"{username} may not delete {lfn}", 403)
        if not path.is_file():
            raise ApiError(404, f"no such file: {lfn}")
        await threadpool(path.unlink)
        return Response(status_code=204)

    return [
        Route("/se/{se}/{path:path}", read, methods=["GET", "HEAD"]),
        Route("/se/{se}/{path:path}", write, methods=["PUT"]),
        Route("/se/{se}/{path:path}", delete, methods=["DELETE"]),
    ]
