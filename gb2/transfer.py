"""Moving one file between a storage element and this machine, with checksums.

Downloads stream into a temporary name in the destination directory
(``.<name>.gb2part``), compute adler32 on the way, and are renamed to the final
name only once size and checksum match the catalogue: an interrupted or corrupted
transfer never leaves a file under its final name. An interrupted HTTP download
resumes where it stopped (a Range request) on the next attempt; a lock on the
partial file keeps two processes from writing it at once. ``file://`` replicas on this machine are copied (or linked,
when the caller only needs to read them).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from gb2.checksum import CHUNK, Adler32, adler32_file, normalise_adler32
from gb2.client.http import raise_for_response, shared_client
from gb2.errors import OperationFailed

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
    client: httpx.Client | None = None,
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
    return _download(pfn, dest, size, adler32, headers, client or shared_client(), progress)


def _copy_local(source: Path, dest: Path, size: int | None, adler32: str | None, progress: Progress | None) -> Fetched:
    tmp = temp_name(dest)
    checksum = Adler32()
    total = 0
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            while chunk := src.read(CHUNK):
                checksum.update(chunk)
                out.write(chunk)
                total += len(chunk)
                if progress:
                    progress(len(chunk))
        _check(dest.name, total, checksum.hexdigest(), size, adler32)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return Fetched(dest, total, checksum.hexdigest())


def partial_name(dest: Path) -> Path:
    """Where an unfinished download waits to be resumed (never the final name)."""
    return dest.with_name(f".{dest.name}.gb2part")


def _download(
    url: str,
    dest: Path,
    size: int | None,
    adler32: str | None,
    headers: Mapping[str, str] | None,
    client: httpx.Client,
    progress: Progress | None,
) -> Fetched:
    """Stream into ``.<name>.gb2part``; resume it with a Range request if it is already there."""
    partial = partial_name(dest)
    fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+b") as out:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperationFailed(f"{dest.name} is being downloaded by another process") from None
        checksum = Adler32()
        have = 0
        while chunk := out.read(CHUNK):  # the bytes kept from an interrupted run
            checksum.update(chunk)
            have += len(chunk)
        if size is not None and have > size:
            out.seek(0)
            out.truncate()
            checksum, have = Adler32(), 0
        request_headers = dict(headers or {})
        if have and (size is None or have < size):
            request_headers["Range"] = f"bytes={have}-"
        total = have
        try:
            if size is not None and have == size:
                pass  # complete already: only the checks below remain
            else:
                with client.stream("GET", url, headers=request_headers) as response:
                    if response.status_code == 200 and have:
                        out.seek(0)  # the server ignored the range: start over
                        out.truncate()
                        checksum, total = Adler32(), 0
                    elif response.status_code not in (200, 206):
                        response.read()
                        raise_for_response("storage element", response)
                        raise OperationFailed(f"download failed: HTTP {response.status_code}")
                    elif progress and have:
                        progress(have)
                    out.seek(total)
                    for chunk in response.iter_raw(CHUNK):
                        checksum.update(chunk)
                        out.write(chunk)
                        total += len(chunk)
                        if progress:
                            progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        except httpx.TransportError as exc:
            raise OperationFailed(f"download of {dest.name} interrupted ({total} bytes kept for resume): {exc}") from exc
        try:
            _check(dest.name, total, checksum.hexdigest(), size, adler32)
        except ChecksumMismatch:
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
