"""The embedded server's keys and secrets, under ``<data_dir>/keys`` (0700, files 0600).

The signing key makes tokens, the sandbox secret signs presigned URLs, and the
login secret approves device-flow logins: whoever can read this folder acts as
the server's owner, so it is created private and kept across restarts (issued
tokens and URLs stay valid).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gb2.fileio import write_atomic
from gb2.paths import private_dir


def secret(path: Path) -> bytes:
    """A random secret (64 hex characters) kept in ``path``, created on first use."""
    private_dir(path.parent)
    if not path.exists():
        write_atomic(path, secrets.token_hex(32), mode=0o600)
    os.chmod(path, 0o600)
    return path.read_bytes()


def signing_key(key_dir: Path) -> tuple[Ed25519PrivateKey, str]:
    """The server's Ed25519 signing key and its key id."""
    private_dir(key_dir)
    path = key_dir / "signing-key.pem"
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
    else:
        key = Ed25519PrivateKey.generate()
        write_atomic(path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), mode=0o600)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, hashlib.sha256(raw).hexdigest()[:32]
