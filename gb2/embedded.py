"""The embedded server as a background service of the default profile.

Commands call :func:`ensure_server`: if the profile's server is not answering it
is started as a detached process (``python -m gb2.server``) that keeps running
jobs after the command returns and stops itself when idle. Its state stays in
the user data dir, so projects survive restarts. A start lock keeps two commands
that start at the same moment from racing.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path

from gb2.client.http import probe
from gb2.config import Profile
from gb2.errors import ServerUnreachable
from gb2.paths import private_dir

INFO_FILE = "server.json"
LOG_FILE = "server.log"


def _info(profile: Profile) -> dict | None:
    try:
        data = json.loads((profile.server_dir / INFO_FILE).read_text())
        return data if isinstance(data, dict) and data.get("url") else None
    except (OSError, ValueError):
        return None


def _healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        return probe(f"{url}/api/health/live", timeout=timeout).status_code == 200
    except ServerUnreachable:
        return False


def running_url(profile: Profile) -> str | None:
    """URL of the profile's embedded server if it is up."""
    info = _info(profile)
    if info and _healthy(info["url"]):
        return info["url"]
    return None


def ensure_server(profile: Profile, timeout: float = 60.0) -> str:
    """The embedded server's URL, starting it first if needed."""
    url = running_url(profile)
    if url:
        return url
    directory = private_dir(profile.server_dir)
    fd = os.open(directory / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        url = running_url(profile)
        if url:
            return url
        return _spawn(profile, timeout)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _spawn(profile: Profile, timeout: float) -> str:
    """Start the server; after a crash, on the port it had (URLs a command holds stay valid)."""
    previous = _info(profile)
    (profile.server_dir / INFO_FILE).unlink(missing_ok=True)
    port = profile.port or _port(previous)
    if port:
        try:
            return _start(profile, timeout, port)
        except ServerUnreachable:
            if profile.port:
                raise  # a port the user chose: say why it failed
    return _start(profile, timeout, 0)


def _port(info: dict | None) -> int:
    try:
        return int(str(info["url"]).rsplit(":", 1)[1]) if info else 0
    except (IndexError, ValueError):
        return 0


def _start(profile: Profile, timeout: float, port: int) -> str:
    directory = profile.server_dir
    argv = [
        sys.executable, "-m", "gb2.server",
        "--data-dir", str(directory),
        "--port", str(port),
        "--idle-timeout", str(profile.idle_timeout),
    ]  # fmt: skip
    import subprocess

    with open(directory / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _info(profile)
        if info and info.get("pid") == proc.pid and _healthy(info["url"]):
            return info["url"]
        if proc.poll() is not None:
            tail = _log_tail(directory / LOG_FILE)
            if proc.returncode == 3:  # another server holds the directory: use it
                url = running_url(profile)
                if url:
                    return url
            raise ServerUnreachable(f"the embedded gb2 server did not start (exit {proc.returncode}): {tail}")
        time.sleep(0.05)
    raise ServerUnreachable(f"the embedded gb2 server did not start within {timeout:.0f} s; see {directory / LOG_FILE}")


def _log_tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no log"


def stop_server(profile: Profile, timeout: float = 30.0) -> bool:
    """Stop the profile's embedded server; True if one was running."""
    info = _info(profile)
    if not info:
        return False
    import signal

    pid = int(info.get("pid", 0))
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return True
