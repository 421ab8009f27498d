"""Where gb2 keeps configuration, cached credentials and local state.

Follows the XDG base-directory convention; every location can be moved with an
environment variable so that tests and CI runs never touch a user's real home.
"""

from __future__ import annotations

import os
from pathlib import Path

from gb2.errors import BadInput, UnsafePath


def _folder(env: str, xdg: str, default: str) -> Path:
    """``$env``, else ``$xdg/gb2``, else ``~/<default>/gb2``; a setting that names a
    file rather than a folder is bad input, reported with the variable to fix."""
    explicit = os.environ.get(env)
    if explicit:
        chosen, source = Path(explicit), env
    else:
        base = os.environ.get(xdg)
        chosen, source = (Path(base) if base else Path.home() / default) / "gb2", xdg
    if chosen.exists() and not chosen.is_dir():
        raise BadInput(f"{source} points at {chosen}, which is not a folder")
    return chosen


def config_dir() -> Path:
    """User configuration (profiles): ``$GB2_CONFIG_DIR`` or ``~/.config/gb2``."""
    return _folder("GB2_CONFIG_DIR", "XDG_CONFIG_HOME", ".config")


def cache_dir() -> Path:
    """Cached tokens and small caches: ``$GB2_CACHE_DIR`` or ``~/.cache/gb2``."""
    return _folder("GB2_CACHE_DIR", "XDG_CACHE_HOME", ".cache")


def data_dir() -> Path:
    """Persistent local state (the embedded server's data): ``$GB2_DATA_DIR`` or ``~/.local/share/gb2``."""
    return _folder("GB2_DATA_DIR", "XDG_DATA_HOME", ".local/share")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only; a place where that is
    impossible (under a file, read-only, /proc) is a one-line :class:`BadInput`."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise BadInput(f"cannot use the folder {path}: {exc.strerror or exc} (see GB2_CONFIG_DIR, "
                       "GB2_CACHE_DIR, GB2_DATA_DIR)") from None  # fmt: skip
    return path


class Inside:
    """:func:`path_inside` for many names under one root (a download of 100,000 files):
    the root and each folder are resolved once, then every name in them is checked
    against its folder's real path; a name that is a symlink on disk is resolved in full."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root.resolve()
        self._prefix = str(self.base).rstrip(os.sep) + os.sep
        self._folders: dict[str, str] = {}

    def __call__(self, relative: str) -> Path:
        _check_segments(relative)
        folder, _, name = relative.rpartition("/")
        real_folder = self._folders.get(folder)
        if real_folder is None:
            real_folder = self._folders[folder] = str((self.root / folder).resolve() if folder else self.base)
        real = os.path.join(real_folder, name)
        if os.path.islink(real):
            real = os.path.realpath(real)
        if not real.startswith(self._prefix):
            raise UnsafePath(f"{relative.encode('unicode_escape').decode()!r} would land outside {self.root}")
        return self.root / relative


def _check_segments(relative: str) -> None:
    segments = relative.split("/")
    if relative.startswith("/") or "\x00" in relative or any(s in ("", ".", "..") for s in segments):
        raise UnsafePath(f"unsafe local name {relative.encode('unicode_escape').decode()!r}")


def path_inside(root: Path, relative: str) -> Path:
    """``root/relative`` for a name that came from a server; ``UnsafePath`` unless it stays inside.

    The name must be relative, without empty, ``.`` or ``..`` segments or NUL, and
    the result, with any symlinks already on disk resolved, must lie below ``root``:
    a catalogue or job name can never make gb2 write elsewhere.
    """
    _check_segments(relative)
    target = root / relative
    base = root.resolve()
    if base not in target.resolve().parents:
        raise UnsafePath(f"{relative.encode('unicode_escape').decode()!r} would land outside {root}")
    return target
