"""Run the embedded server: in a background thread (tests, Python API) or in the foreground.

The socket is bound before the application is built, so the server knows its
own URL (needed for token issuers, presigned URLs and storage PFNs) even when the
port was chosen by the OS.
"""

from __future__ import annotations

import socket
import threading
import time

from gb2.server.settings import ServerSettings
from gb2.server.state import ServerState


class EmbeddedServer:
    """One embedded server instance bound to a loopback socket."""

    def __init__(self, settings: ServerSettings) -> None:
        import uvicorn

        from gb2.server.app import create_app

        self.settings = settings
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.state.db.close()
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- foreground ------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Serve until interrupted (SIGINT/SIGTERM stop uvicorn gracefully)."""
        try:
            self._server.run(sockets=[self.sock])
        finally:
            self.state.db.close()
