"""Moving one file between a storage element and this machine, with checksums.

Downloads stream into a temporary name in the destination directory
(``.<name>.gb2part``), compute adler32 on the way, and are renamed to the final
name only once size and checksum match the catalogue: an interrupted or corrupted
transfer never leaves a file under its final name. An interrupted HTTP download
resumes where it stopped (a Range request) on the next attempt; a lock on the
partial file keeps two processes from writing it at once. ``file://`` replicas on
this machine are copied (or linked, when the caller only needs to read them).
"""

from __future__ import annotations

import fcntl
import http.client
import os
import shutil
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse, urlsplit

import httpx

from gb2.client.http import USER_AGENT, http_timeout, raise_for_response, shared_client
from gb2.data.checksum import CHUNK, Adler32, adler32_file, normalise_adler32
from gb2.errors import LocalWriteFailed, OperationFailed
from gb2.fileio import reason, write_all

Progress = Callable[[int], None]


class ChecksumMismatch(OperationFailed):
    """The bytes received do not match the catalogue."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    bytes: int
    adler32: str


def local_path(pfn: str) -> Path | None:
    """The path of a ``file://`` PFN (``file://localhost/abs`` or ``file:///abs``)."""
    parsed = urlparse(pfn)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


def temp_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.gb2part-{uuid.uuid4().hex[:12]}")


def verify(path: Path, size: int | None, adler32: str | None) -> str:
    """Check a local file against the catalogue; returns its adler32."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ChecksumMismatch(f"{path.name}: size {actual_size} != catalogue {size}")
    actual = adler32_file(path)
    if adler32 and normalise_adler32(adler32) != actual:
        raise ChecksumMismatch(f"{path.name}: adler32 {actual} != catalogue {normalise_adler32(adler32)}")
    return actual


def fetch(
    pfn: str,
    dest: Path,
    *,
    size: int | None = None,
    adler32: str | None = None,
    headers: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    link: bool = False,
) -> Fetched:
    """Fetch ``pfn`` to ``dest``, verified; ``link=True`` symlinks a local replica instead."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = local_path(pfn)
    if source is not None:
        if not source.is_file():
            raise OperationFailed(f"replica missing on disk: {pfn}")
        if link:
            checksum = verify(source, size, adler32)
            tmp = temp_name(dest)
            os.symlink(source, tmp)
            os.replace(tmp, dest)
            return Fetched(dest, source.stat().st_size, checksum)
        return _copy_local(source, dest, size, adler32, progress)
    return _download(pfn, dest, size, adler32, headers, progress)


def _copy_local(source: Path, dest: Path, size: int | None, adler32: str | None, progress: Progress | None) -> Fetched:
    tmp = temp_name(dest)
    checksum = Adler32()
    total = 0
    try:
        with open(source, "rb") as src:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                while chunk := src.read(CHUNK):
                    checksum.update(chunk)
                    total += _write(fd, chunk, dest)
                    if progress:
                        progress(len(chunk))
                _check_written(fd, total, dest)
            finally:
                os.close(fd)
        _check(dest.name, total, checksum.hexdigest(), size, adler32)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return Fetched(dest, total, checksum.hexdigest())


def _write(fd: int, data: bytes | memoryview, dest: Path) -> int:
    """Write all of ``data`` or fail with the OS's reason (never a silent short write)."""
    try:
        return write_all(fd, data)
    except OSError as exc:
        raise LocalWriteFailed(f"{dest.name}: cannot write: {reason(exc)}") from None


def _check_written(fd: int, total: int, dest: Path) -> None:
    """What is on disk, not what was received, is what gets verified and renamed."""
    on_disk = os.fstat(fd).st_size
    if on_disk != total:
        raise LocalWriteFailed(f"{dest.name}: {on_disk} bytes on disk after writing {total}")


def partial_name(dest: Path) -> Path:
    """Where an unfinished download waits to be resumed (never the final name)."""
    return dest.with_name(f".{dest.name}.gb2part")


# -- bulk HTTP GETs ----------------------------------------------------------------------------
# Files are fetched with the standard library's http.client and ``readinto`` into one
# reused buffer: httpx parses bodies in pure Python (h11), which caps a 2-core machine
# at about half of curl's loopback speed; http.client reads at curl's speed. API calls
# keep using httpx. Each thread keeps its own keep-alive connection per server.

_connections = threading.local()
_REDIRECTS = (301, 302, 303, 307, 308)


def _connection(scheme: str, host: str, port: int, fresh: bool = False) -> http.client.HTTPConnection:
    pool: dict = _connections.__dict__.setdefault("pool", {})
    timeout = http_timeout()
    key = (scheme, host, port, timeout)
    conn = pool.get(key)
    if conn is not None and fresh:
        conn.close()
        conn = None
    if conn is None:
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        pool[key] = conn
    return conn


def open_get(url: str, headers: Mapping[str, str]) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    """A GET whose body is still to be read; redirects followed, errors raised as gb2 errors."""
    sent = {"User-Agent": USER_AGENT, **headers}
    origin = urlsplit(url).netloc
    for _ in range(6):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OperationFailed(f"cannot download from {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if parts.netloc != origin:
            sent.pop("Authorization", None)  # never hand our token to another host
        for fresh in (False, True):
            conn = _connection(parts.scheme, parts.hostname, port, fresh=fresh)
            try:
                conn.request("GET", target, headers=sent)
                response = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, http.client.ImproperConnectionState, ConnectionResetError,
                    BrokenPipeError):  # fmt: skip
                conn.close()
                if fresh:
                    raise  # a kept-alive connection the server had closed gets one retry
            except BaseException:
                conn.close()  # a timeout or worse: never reuse a connection left mid-request
                raise
        if response.status in _REDIRECTS and response.getheader("Location"):
            response.read()
            url = urljoin(url, response.getheader("Location"))
            continue
        if response.status >= 400:
            body = response.read(65536)
            conn.close()
            raise_for_response("storage element", httpx.Response(response.status, headers=response.getheaders(), content=body))
        return response, conn
    raise OperationFailed(f"too many redirects from {url}")


def _download(
    url: str,
    dest: Path,
    size: int | None,
    adler32: str | None,
    headers: Mapping[str, str] | None,
    progress: Progress | None,
) -> Fetched:
    """Stream into ``.<name>.gb2part``; resume it with a Range request if it is already there."""
    partial = partial_name(dest)
    fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+b", buffering=0) as out:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperationFailed(f"{dest.name} is being downloaded by another process") from None
        checksum = Adler32()
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        have = 0
        while n := out.readinto(buffer):  # the bytes kept from an interrupted run
            checksum.update(view[:n])
            have += n
        if size is not None and have > size:
            out.seek(0)
            out.truncate()
            checksum, have = Adler32(), 0
        request_headers = dict(headers or {})
        if have and (size is None or have < size):
            request_headers["Range"] = f"bytes={have}-"
        total = have
        conn: http.client.HTTPConnection | None = None
        try:
            if size is None or have < size:
                response, conn = open_get(url, request_headers)
                if response.status == 200 and have:
                    out.seek(0)  # the server ignored the range: start over
                    out.truncate()
                    checksum, total = Adler32(), 0
                elif progress and have:
                    progress(have)
                out.seek(total)
                while n := response.readinto(buffer):
                    chunk = view[:n]
                    checksum.update(chunk)
                    total += _write(out.fileno(), chunk, dest)
                    if progress:
                        progress(n)
                if response.length:  # the server closed before sending everything
                    conn.close()
                    raise OperationFailed(f"download of {dest.name} ended early ({total} bytes kept for resume)")
        except LocalWriteFailed:
            if conn is not None:
                conn.close()
            partial.unlink(missing_ok=True)  # a full disk keeps nothing half-written
            raise
        except (OSError, http.client.HTTPException) as exc:
            if conn is not None:
                conn.close()
            raise OperationFailed(f"download of {dest.name} interrupted ({total} bytes kept for resume): {exc}") from exc
        # No fsync: a file renamed after verification that a crash later truncates
        # fails the size/adler32 check of the next run and is fetched again.
        try:
            _check_written(out.fileno(), total, dest)
            _check(dest.name, total, checksum.hexdigest(), size, adler32)
        except (ChecksumMismatch, LocalWriteFailed):
            partial.unlink(missing_ok=True)  # corrupt: the next attempt starts from zero
            raise
        os.replace(partial, dest)
    return Fetched(dest, total, checksum.hexdigest())


def _check(name: str, total: int, actual: str, size: int | None, adler32: str | None) -> None:
    if size is not None and total != size:
        raise ChecksumMismatch(f"{name}: received {total} bytes, catalogue says {size}")
    if adler32 and normalise_adler32(adler32) != actual:
        raise ChecksumMismatch(f"{name}: adler32 {actual} != catalogue {normalise_adler32(adler32)}")


def upload(
    path: Path,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> str:
    """Write a file to a storage element: HTTP PUT announcing its adler32, or a copy for a
    ``file://`` PFN on this machine (a POSIX storage element). Returns the checksum."""
    checksum = adler32_file(path)
    target = local_path(url)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_file(path, target)
        if adler32_file(target) != checksum:
            target.unlink()
            raise ChecksumMismatch(f"{path.name}: copy to {target} does not match the source")
        return checksum
    all_headers = {"X-Checksum-Adler32": checksum, **(headers or {})}
    with open(path, "rb") as f:
        response = (client or shared_client()).put(url, content=_chunks(f), headers=all_headers)
    if response.status_code not in (200, 201, 204):
        raise_for_response("storage element", response)
    return checksum


def _chunks(f):  # type: ignore[no-untyped-def]
    while chunk := f.read(CHUNK):
        yield chunk


def copy_file(src: Path, dest: Path) -> None:
    """Copy through a temporary name (used for local outputs)."""
    tmp = temp_name(dest)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
