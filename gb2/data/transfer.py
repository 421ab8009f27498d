"""Moving one file between a storage element and this machine, with checksums, both ways.

Downloads stream into a temporary name in the destination directory
(``.<name>.gb2part``), compute adler32 on the way, and are renamed to the final
name only once size and checksum match the catalogue: an interrupted or corrupted
transfer never leaves a file under its final name. An interrupted HTTP download
resumes where it stopped (a Range request) on the next attempt; a lock on the
partial file keeps two processes from writing it at once. ``file://`` replicas on
this machine are copied (or linked, when the caller only needs to read them).
Uploads (:func:`send`) read the bytes once, compute adler32 on the way and check
it against what the storage element says it stored.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse, urlsplit

from gb2.client.http import raise_for_response
from gb2.client.transport import USER_AGENT, Response, connection
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
    make_dirs: bool = True,
) -> Fetched:
    """Fetch ``pfn`` to ``dest``, verified; ``link=True`` symlinks a local replica instead.
    ``make_dirs=False``: the caller made ``dest``'s folder already (many files, one folder)."""
    if make_dirs:
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
    return _send_local(file_chunks(source), size, dest, adler32, progress)


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


def _buffer() -> tuple[bytearray, memoryview]:
    """This thread's transfer buffer (allocating and zeroing 1 MB per file would cost more
    than receiving a small file)."""
    found = getattr(_buffers, "buffer", None)
    if found is None:
        buffer = bytearray(CHUNK)
        found = _buffers.buffer = (buffer, memoryview(buffer))
    return found


_buffers = threading.local()


def partial_name(dest: Path) -> Path:
    """Where an unfinished download waits to be resumed (never the final name)."""
    return dest.with_name(f".{dest.name}.gb2part")


# -- bulk HTTP GETs ----------------------------------------------------------------------------
# Files are fetched with the standard library's http.client and ``readinto`` into one
# reused buffer: httpx parses bodies in pure Python (h11), which caps a 2-core machine
# at about half of curl's loopback speed; http.client reads at curl's speed. Each thread
# keeps its own keep-alive connection per server, in the pool the API calls use too
# (:func:`gb2.client.transport.connection`); a copy reads (``purpose="get"``) and writes
# (``"put"``) at once, so the two have a connection each.

_REDIRECTS = (301, 302, 303, 307, 308)


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
            conn = connection(parts.scheme, parts.hostname, port, fresh=fresh)
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
            raise_for_response("storage element", Response(response.status, response.getheaders(), body))
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
        buffer, view = _buffer()
        have = 0
        if os.fstat(out.fileno()).st_size:
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


# -- uploads ------------------------------------------------------------------------------------
# A file goes to a storage element in one pass: its bytes are read once, adler32 is
# computed on the way, and the storage element's own account of what it received
# (its reply, a ``Digest`` header, or a ``HEAD`` with ``Want-Digest``) must agree
# before the file counts as written. HTTP PUTs use the same per-thread keep-alive
# connections as downloads; a ``file://`` PFN (a POSIX storage element on this
# machine) is written through a temporary name and renamed when complete.

Chunks = Callable[[], Iterator[bytes | memoryview]]


def file_chunks(path: Path) -> Chunks:
    """The bytes of a local file, read in ``CHUNK`` pieces (each call starts over)."""

    def chunks() -> Iterator[bytes | memoryview]:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        with open(path, "rb", buffering=0) as f:
            while n := f.readinto(buffer):
                yield view[:n]

    return chunks


def pfn_chunks(pfn: str, headers: Mapping[str, str] | None = None) -> Chunks:
    """The bytes of a replica: a local file, or an HTTP GET streamed (each call starts over)."""
    source = local_path(pfn)
    if source is not None:
        return file_chunks(source)

    def chunks() -> Iterator[bytes | memoryview]:
        response, conn = open_get(pfn, dict(headers or {}))
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        whole = False
        try:
            while n := response.readinto(buffer):
                yield view[:n]
            if response.length:
                raise OperationFailed(f"reading {pfn} ended early")
            whole = True
        except (OSError, http.client.HTTPException) as exc:
            raise OperationFailed(f"reading {pfn} failed: {exc}") from exc
        finally:
            if not whole:  # abandoned half-way: the connection cannot be reused
                conn.close()

    return chunks


def send(chunks: Chunks, size: int, url: str, *, headers: Mapping[str, str] | None = None,
         adler32: str | None = None, progress: Progress | None = None) -> Fetched:
    """Write ``size`` bytes to the PFN ``url``, computing adler32 while streaming.

    ``adler32``: what the bytes must add up to (a copy of a catalogued file); the
    storage element is told so when it is an HTTP one. The result is checked
    against the storage element's account of what it stored; a mismatch removes
    the bad copy and raises :class:`ChecksumMismatch`. An existing file at the PFN
    (an earlier attempt that was never registered) is replaced.
    """
    target = local_path(url)
    if target is not None:
        return _send_local(chunks, size, target, adler32, progress)
    sent_headers = dict(headers or {})
    if adler32:
        sent_headers["X-Checksum-Adler32"] = normalise_adler32(adler32)
    for replace in (False, True):
        status, reply, checksum, total = _put(chunks, size, url, sent_headers, progress)
        if status == 409 and not replace:
            _delete(url, sent_headers)  # a stale copy nobody registered: replace it
            continue
        break
    if status not in (200, 201, 204):
        raise_for_response("storage element", Response(status, reply.getheaders(), reply.body))
    _check(url.rsplit("/", 1)[-1], total, checksum, size, adler32)
    stored = _stored_checksum(reply, url, sent_headers)
    if stored is not None and normalise_adler32(stored) != checksum:
        _delete(url, sent_headers)
        raise ChecksumMismatch(f"{url.rsplit('/', 1)[-1]}: the storage element stored adler32 {stored}, "
                               f"sent {checksum}")  # fmt: skip
    return Fetched(Path(urlsplit(url).path), total, checksum)


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]]

    def getheaders(self) -> list[tuple[str, str]]:
        return self.headers

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _put(chunks: Chunks, size: int, url: str, headers: Mapping[str, str],
         progress: Progress | None) -> tuple[int, _Reply, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OperationFailed(f"cannot upload to {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for fresh in (False, True):
        conn = connection(parts.scheme, parts.hostname, port, fresh=fresh, purpose="put")
        checksum, total = Adler32(), 0
        try:
            conn.putrequest("PUT", target, skip_accept_encoding=True)
            for key, value in {"User-Agent": USER_AGENT, **headers, "Content-Length": str(size)}.items():
                conn.putheader(key, value)
            conn.endheaders()
            for chunk in chunks():
                if total + len(chunk) > size:
                    break
                checksum.update(chunk)
                conn.send(chunk)
                total += len(chunk)
                if progress:
                    progress(len(chunk))
            if total != size:  # the source changed under us: the request cannot be completed
                conn.close()
                raise ChecksumMismatch(f"{url.rsplit('/', 1)[-1]}: the source is no longer {size} bytes long")
            response = conn.getresponse()
            reply = _Reply(response.status, response.read(), response.getheaders())
            if response.will_close:
                conn.close()
            return reply.status, reply, checksum.hexdigest(), total
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            conn.close()
            if fresh:  # a kept-alive connection the server had closed gets one retry
                raise OperationFailed(f"upload to {url} interrupted: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise OperationFailed(f"upload to {url} interrupted: {exc}") from exc
    raise AssertionError("unreachable")


def _request(method: str, url: str, headers: Mapping[str, str]) -> _Reply:
    parts = urlsplit(url)
    conn = connection(parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80),
                       purpose="put")
    try:
        conn.request(method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                     headers={"User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        reply = _Reply(response.status, response.read(), response.getheaders())
        if response.will_close:
            conn.close()
        return reply
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise OperationFailed(f"{method} {url} failed: {exc}") from exc


def _delete(url: str, headers: Mapping[str, str]) -> None:
    auth = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-rucio-auth-token")}
    _request("DELETE", url, auth)


def _stored_checksum(reply: _Reply, url: str, headers: Mapping[str, str]) -> str | None:
    """The adler32 the storage element says it stored: in its reply (gb2's storage), in an
    RFC 3230 ``Digest`` header, or from a ``HEAD`` asking for one (dCache, XRootD); None if
    it will not say."""
    try:
        doc = json.loads(reply.body) if reply.body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("adler32"), str):
        return doc["adler32"]
    for source in (reply, None):
        if source is None:
            auth = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-rucio-auth-token")}
            try:
                source = _request("HEAD", url, {**auth, "Want-Digest": "adler32"})
            except OperationFailed:
                return None
        digest = source.header("Digest") or ""
        for item in digest.split(","):
            algorithm, _, value = item.strip().partition("=")
            if algorithm.lower() == "adler32" and value:
                return value.strip()
    return None


def _send_local(chunks: Chunks, size: int | None, dest: Path, adler32: str | None, progress: Progress | None) -> Fetched:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    checksum, total = Adler32(), 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for chunk in chunks():
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
        tmp.unlink(missing_ok=True)
    return Fetched(dest, total, checksum.hexdigest())


def upload(path: Path, url: str, *, headers: Mapping[str, str] | None = None) -> str:
    """Write a local file to a storage element in one pass (see :func:`send`); returns its adler32."""
    return send(file_chunks(path), path.stat().st_size, url, headers=headers).adler32
