"""Run the embedded server: in a background thread (tests, Python API) or in the foreground.

The socket is bound before the application is built, so the server knows its
own URL (needed for token issuers, presigned URLs and storage PFNs) even when the
port was chosen by the OS.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time

from gb2.paths import private_dir
from gb2.server.settings import ServerSettings
from gb2.server.state import ServerState

log = logging.getLogger("gb2.server")
INFO_FILE = "server.json"


class ServerAlreadyRunning(RuntimeError):
    """Another embedded server holds this data directory."""


def _lock_data_dir(data_dir) -> int:  # type: ignore[no-untyped-def]
    """One server per data directory: the lock lives as long as the process."""
    private_dir(data_dir)
    fd = os.open(data_dir / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ServerAlreadyRunning(f"another gb2 server is using {data_dir}") from None
    return fd


class EmbeddedServer:
    """One embedded server instance bound to a loopback socket."""

    def __init__(self, settings: ServerSettings, *, idle_timeout: float = 0) -> None:
        import uvicorn

        from gb2.server.app import create_app

        self.settings = settings
        self.idle_timeout = idle_timeout
        self._lock_fd = _lock_data_dir(settings.data_dir)
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
        # without it every response waits ~40 ms for a delayed ACK (Nagle).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((settings.host, settings.port))
        self.sock.listen(2048)
        host, port = self.sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self.state = ServerState.create(settings)
        self.state.set_base_url(self.url)
        self.app = create_app(self.state)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_keep_alive=30,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    # -- background ------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> EmbeddedServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, name="gb2-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded server did not start")
            time.sleep(0.01)
        return self

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def shutdown(self) -> None:
        """Ask a server running in the foreground to stop (from another thread)."""
        self._server.should_exit = True

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._release()

    def _release(self) -> None:
        self.state.db.close()
        try:
            self.sock.close()
        except OSError:
            pass
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- foreground ------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Serve until interrupted (SIGINT/SIGTERM stop uvicorn gracefully) or idle."""
        info = self.settings.data_dir / INFO_FILE
        tmp = info.with_suffix(".tmp")
        tmp.write_text(json.dumps({"url": self.url, "pid": os.getpid(), "started": time.time()}))
        tmp.replace(info)
        if self.idle_timeout > 0:
            threading.Thread(target=self._idle_watch, name="gb2-idle", daemon=True).start()
        try:
            self._server.run(sockets=[self.sock])
        finally:
            try:
                if json.loads(info.read_text()).get("pid") == os.getpid():
                    info.unlink()
            except (OSError, ValueError):
                pass
            self._release()

    def _idle_watch(self) -> None:
        """Stop once no request came for ``idle_timeout`` seconds and no job is queued or running,
        or once the data folder is gone (nothing can be kept any more). A check that fails (a
        database busy for too long) is made again at the next tick: a watcher that died of it
        would leave the server up for good."""
        while not self._server.should_exit:
            time.sleep(min(5.0, self.idle_timeout / 4))
            if not self.settings.data_dir.is_dir():
                log.warning("the data folder %s is gone: stopping", self.settings.data_dir)
                self._server.should_exit = True
                return
            try:
                idle = time.monotonic() - self.state.last_activity
                engine = self.state.engine
                if idle >= self.idle_timeout and (engine is None or not engine.busy()):
                    log.warning("idle for %.0f s with no jobs: stopping", idle)
                    self._server.should_exit = True
            except Exception:
                log.exception("the idle check failed; it is made again in a moment")
