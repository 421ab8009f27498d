"""A test grid reached only through a fault proxy."""

from __future__ import annotations

from typing import Any

from gb2.config import Config, Profile
from gb2.server.runner import EmbeddedServer
from tests.faults.proxy import FaultProxy


def behind_proxy(server_factory: Any, proxy: FaultProxy, profile: str, **server: Any) -> EmbeddedServer:
    """Start a server whose public URL is the proxy's (storage and sandbox URLs go through it too),
    start the proxy in front of it, and make ``profile`` (reaching it through the proxy) active."""
    srv = server_factory(public_url=proxy.url, **server)
    proxy.set_upstream(srv.url)
    proxy.start()
    config = Config.load()
    config.profiles[profile] = Profile(profile, "remote", diracx_url=proxy.url, rucio_url=f"{proxy.url}/rucio",
                                       login_secret_file=str(srv.settings.login_secret_path))  # fmt: skip
    config.active_profile = profile
    config.save()
    return srv
