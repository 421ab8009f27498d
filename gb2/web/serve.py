"""Run the web view on a loopback socket, in the foreground (gb2_web) or in a thread
(gb2_mock_server --web, tests).

The socket is bound to 127.0.0.1 before the application is built, so the access
gate knows its own address (for the Host and Origin checks) even on a port the
system chose.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from gb2.web.access import TOKEN_PARAM, Access

HOST = "127.0.0.1"


class WebServer:
    def __init__(self, session: Any, *, port: int = 0, access: Access | None = None, live_seconds: float = 3.0) -> None:
        import uvicorn

        from gb2.web.app import create_app

        self.access = access or Access()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((HOST, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self.access.bind(HOST, self.port)
        self.app = create_app(session, self.access, live_seconds=live_seconds)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def login_url(self) -> str:
        """The address to open: it carries the one-time token (never print it to a log)."""
        return f"{self.url}/?{TOKEN_PARAM}={self.access.token}"

    def start(self, timeout: float = 30.0) -> WebServer:
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.sock]}, name="gb2-web",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web view did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.sock.close()

    def serve_forever(self) -> None:
        """Until Ctrl-C (uvicorn stops cleanly on SIGINT and SIGTERM)."""
        try:
            self._server.run(sockets=[self.sock])
        finally:
            self.sock.close()
