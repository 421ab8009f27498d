"""Sandbox archives: reproducible tar.bz2 files and safe extraction.

Archives are built deterministically (sorted names, zero mtimes and owners), so
the same files give the same sha256 and DiracX deduplicates the upload.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import os
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from gb2.errors import BadInput, OperationFailed

#: gbasf2's input-sandbox limit; ``--lfn_sandboxfiles`` lifts it.
SANDBOX_LIMIT = 10 * 1024 * 1024


def make_archive(files: Iterable[tuple[Path, str]]) -> bytes:
    """A tar.bz2 of ``(path on disk, name in archive)`` pairs."""
    return _archive((arcname, path) for path, arcname in files)


def archive_of(members: Mapping[str, bytes]) -> bytes:
    """A tar.bz2 of in-memory files (name in archive -> content), built like :func:`make_archive`."""
    return _archive(members.items())


def _archive(members: Iterable[tuple[str, Path | bytes]]) -> bytes:
    entries = sorted(members, key=lambda pair: pair[0])
    names = [arcname for arcname, _ in entries]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise BadInput(f"two sandbox files have the same name: {', '.join(dupes)}")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, source in entries:
            info = tarfile.TarInfo(arcname)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if isinstance(source, bytes):
                info.size, info.mode = len(source), 0o644
                tar.addfile(info, io.BytesIO(source))
                continue
            info.size = source.stat().st_size
            info.mode = 0o755 if os.access(source, os.X_OK) else 0o644
            with open(source, "rb") as f:
                tar.addfile(info, f)
    return bz2.compress(raw.getvalue(), compresslevel=9)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extract_archive(data: bytes, dest: Path) -> list[str]:
    """Unpack a sandbox into ``dest``; refuses absolute paths, ``..`` and links."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            return _extract_members(tar, dest)
    except tarfile.TarError as exc:
        raise OperationFailed(f"sandbox is not a valid archive: {exc}") from exc


def _extract_members(tar: tarfile.TarFile, dest: Path) -> list[str]:
    names = []
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
            raise OperationFailed(f"unsafe entry in sandbox: {member.name}")
        target = dest / path
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        assert source is not None
        with open(target, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
        names.append(member.name)
    return names
