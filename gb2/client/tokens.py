"""The on-disk token cache: one JSON file per profile, mode 0600, in the user cache dir.

Tokens are never logged or printed. Writes go through a temporary file created
0600 and an atomic rename, so a crash never leaves a half-written or readable
file. A lock file serialises refreshes between concurrent gb2 processes: DiracX
rotates refresh tokens and treats reuse of an old one as an attack, so two
processes must never refresh with the same token.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gb2.fileio import write_atomic
from gb2.paths import cache_dir, private_dir


def token_path(profile: str) -> Path:
    """The profile's token cache; the name is checked so that it stays in the tokens folder."""
    from gb2.config import check_profile_name

    return cache_dir() / "tokens" / f"{check_profile_name(profile)}.json"


def claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read without verifying the signature (the server verifies it).

    Only the payload is decoded (base64url JSON), so reading who is logged in does not
    import a JWT library and its cryptography on every command's start."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


#: The cache's fields and their types: a damaged or hand-edited cache counts as no login.
_FIELDS: dict[str, tuple[type, ...]] = {
    "access_token": (str,), "refresh_token": (str, type(None)), "expires_at": (int, float),
    "refresh_expires_at": (int, float), "valid_until": (int, float, type(None)),
    "requested_lifetime": (int, float, type(None)),
}  # fmt: skip


def well_formed(data: object) -> bool:
    """A cache gb2 itself could have written: a mapping with an access token and fields of the right types."""
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
        return False
    if "expires_at" not in data:
        return False
    return all(isinstance(data[k], types) and not isinstance(data[k], bool)
               for k, types in _FIELDS.items() if k in data)  # fmt: skip


class TokenStore:
    """Read and write one profile's cached tokens."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_profile(cls, profile: str) -> TokenStore:
        return cls(token_path(profile))

    def load(self) -> dict[str, Any] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        if st.st_mode & 0o077:
            # Someone loosened the permissions: tighten them before reading.
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return data if well_formed(data) else None

    def save(self, response: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Store a token response, adding the absolute expiry times we act on."""
        access = response["access_token"]
        access_claims = claims(access)
        data = {
            "access_token": access,
            "refresh_token": response.get("refresh_token"),
            "expires_at": float(access_claims.get("exp") or time.time() + int(response.get("expires_in", 0))),
            "refresh_expires_at": float(claims(response["refresh_token"]).get("exp", 0))
            if response.get("refresh_token")
            else 0.0,
            "saved_at": time.time(),
            **extra,
        }
        private_dir(self.path.parent)
        write_atomic(self.path, json.dumps(data), mode=0o600)
        return data

    def delete(self) -> bool:
        try:
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False

    @contextmanager
    def lock(self) -> Iterator[None]:
        private_dir(self.path.parent)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
