"""Helpers for the web view's tests: the view of a test grid's profile, and a browser-like client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from gb2.session import Session
from gb2.web.serve import WebServer

LIVE = {"X-Gb2-Live": "1"}


@contextmanager
def web_view(profile: str, *, live_seconds: float = 0.5) -> Iterator[WebServer]:
    """``gb2_web`` for ``profile`` (as its command runs it), in a thread."""
    server = WebServer(Session.open(profile), live_seconds=live_seconds).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def logged_in(server: WebServer) -> Iterator[httpx.Client]:
    """A client that opened the printed URL: it holds the session cookie, as a browser would."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        first = client.get(server.login_url)
        assert first.status_code == 303, first.text
        yield client
