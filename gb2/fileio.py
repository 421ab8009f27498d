"""Local writes that never lose data silently.

A write to a full or read-only disk may store fewer bytes than it was given
(a short write) before it fails. Everything gb2 writes locally goes through
these helpers: every byte is accounted for, a failure is a one-line
:class:`LocalWriteFailed` with the operating system's reason, and a small file
(config, tokens, lists) only gets its final name once it is complete on disk.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from gb2.errors import BadInput, LocalWriteFailed


def write_all(fd: int, data: bytes | bytearray | memoryview) -> int:
    """Write every byte of ``data`` to ``fd`` (looping over short writes); returns the count."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os.write(fd, view[done:])
    return done


def reason(exc: OSError) -> str:
    """The operating system's words for a failed write ("No space left on device")."""
    return exc.strerror or str(exc)


def write_atomic(path: Path, data: str | bytes, *, mode: int = 0o644) -> Path:
    """Replace ``path`` with ``data`` through a temporary file created with ``mode``.

    The temporary file is removed if anything fails, so neither a partial file nor
    ``<name>.tmp`` is left behind. A path that is not a regular file (``/dev/null``,
    a FIFO) is written in place instead.
    """
    payload = data.encode() if isinstance(data, str) else data
    if path.is_dir():
        raise LocalWriteFailed(f"cannot write {path}: it is a folder")
    if path.exists() and not path.is_file():
        return _write_in_place(path, payload)  # /dev/null, a FIFO, /dev/stdout: never replace those
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LocalWriteFailed(f"cannot write {path}: {reason(exc)}") from None
    return path


def _write_in_place(path: Path, payload: bytes) -> Path:
    """Write into an existing special file (renaming over a device would replace the device)."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            write_all(fd, payload)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LocalWriteFailed(f"cannot write {path}: {reason(exc)}") from None
    return path


# -- checks before any work: bad local paths are bad input (exit 2), found at once ------


def _require_writable(folder: Path, what: str) -> None:
    """A file can be created in ``folder`` (a probe that leaves nothing), else :class:`BadInput`."""
    try:
        import tempfile

        fd, name = tempfile.mkstemp(prefix=".gb2-probe-", dir=folder)
    except OSError as exc:
        raise BadInput(f"{what}: cannot write in {folder} ({reason(exc)})") from None
    os.close(fd)
    os.unlink(name)


def check_output_dir(path: Path, what: str) -> Path:
    """``path`` is a folder gb2 may create files in, or may be created: checked before any
    download starts, so that ``-d /proc/self`` or a path under a file fails at once."""
    path = Path(path)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{what} {path}: {existing} is not a folder")
    _require_writable(existing, f"{what} {path}")
    return path


def check_output_file(path: Path, what: str) -> Path:
    """``path`` can be written: its folder exists and is writable, and it is not a folder
    (a device or a pipe, such as /dev/null, is written in place, never replaced)."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{what} {path}: is a folder, not a file")
    if path.exists() and not path.is_file():
        return path
    folder = path.parent
    if not folder.is_dir():
        raise BadInput(f"{what} {path}: the folder {folder} does not exist")
    _require_writable(folder, f"{what} {path}")
    return path
