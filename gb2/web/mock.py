"""The web view of a gb2 mock server's first user (``gb2_mock_server --web``), for CI smoke tests.

The web view logs in to the server as a user would, through the device flow
approved with the server's login secret, and keeps that login in the server's own
private data folder, not in the user's token cache.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from gb2 import DEFAULT_GROUP
from gb2.web.serve import WebServer


def serve_mock_view(server: Any, *, port: int = 0, username: str | None = None) -> WebServer:
    """Start the web view of ``server`` (an EmbeddedServer) for ``username`` (default: its first user);
    prints the view's address, with its one-time token, as a line on stdout."""
    from gb2.client.tokens import TokenStore
    from gb2.config import Profile
    from gb2.login import login
    from gb2.paths import private_dir
    from gb2.session import Session

    data_dir = Path(server.settings.data_dir)
    profile = Profile("mock-web", "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio",
                      login_secret_file=str(server.settings.login_secret_path))  # fmt: skip
    session = Session(profile, server.url, f"{server.url}/rucio")
    session.tokens = TokenStore(private_dir(data_dir / "web") / "tokens.json")  # type: ignore[misc]
    login(session, DEFAULT_GROUP, show=lambda flow: None, username=username)
    try:
        web = WebServer(session, port=port).start()
    except OSError as exc:
        raise OSError(f"the web view cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
    print(web.login_url, flush=True)
    print(f"gb2 server: the web view of {session.username}'s projects is the address above", file=sys.stderr)
    return web
