"""Ends the payloads of an engine whose server is gone, however it went (even ``kill -9``).

The engine starts one reaper per server (``python -m gb2.engine.reaper``, in its own
session) and tells it through a pipe which payload process groups are alive
(``+<pgid>``, ``-<pgid>``). When the pipe closes, because the server stopped or
died, the reaper ends every group still listed (SIGTERM, then SIGKILL) and exits:
no payload of a dead server keeps running as an orphan.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

GRACE_SECONDS = 2.0


class Reaper:
    """The engine's side: the pipe to the reaper process."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "gb2.engine.reaper"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _send(self, line: str) -> None:
        with self._lock:
            stdin = self._proc.stdin
            if stdin is None or stdin.closed:
                return
            try:
                stdin.write(f"{line}\n".encode())
                stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def add(self, pgid: int) -> None:
        self._send(f"+{pgid}")

    def discard(self, pgid: int) -> None:
        self._send(f"-{pgid}")

    def close(self, timeout: float = 10.0) -> None:
        """Close the pipe: the reaper ends what is left and exits."""
        with self._lock:
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()


def end_groups(groups: set[int], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM every group, SIGKILL whatever is left after ``grace`` seconds."""
    alive = set(groups)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0.0)):
        for pgid in list(alive):
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                alive.discard(pgid)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            for pgid in list(alive):
                try:
                    os.killpg(pgid, 0)
                except (ProcessLookupError, PermissionError):
                    alive.discard(pgid)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the server is the server's
    groups: set[int] = set()
    for raw in sys.stdin.buffer:
        line = raw.strip().decode(errors="replace")
        if len(line) > 1 and line[1:].isdigit():
            pgid = int(line[1:])
            if pgid > 1 and line[0] == "+":
                groups.add(pgid)
            elif line[0] == "-":
                groups.discard(pgid)
    end_groups(groups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
