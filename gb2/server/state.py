"""Everything a route needs, built once per server: settings, database, token authority."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from gb2.paths import private_dir
from gb2.server.auth import SCHEMA as AUTH_SCHEMA
from gb2.server.auth import Authority
from gb2.server.db import Database
from gb2.server.settings import ServerSettings


class JobEngine(Protocol):
    """What the server asks of its job engine (:class:`gb2.engine.engine.Engine`).

    The engine depends on the server (it reads the job database through this state);
    the server only starts, wakes and stops it, so it names it by this protocol.
    """

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wake(self) -> None: ...

    def busy(self) -> bool: ...


#: The base URL to hand out in the request being served (set by :func:`gb2.server.app.create_app`).
request_base_url: ContextVar[str | None] = ContextVar("gb2_request_base_url", default=None)


@dataclass
class ServerState:
    settings: ServerSettings
    db: Database
    authority: Authority
    #: Where the server listens; its engine's jobs talk to it there.
    internal_url: str = ""
    engine: JobEngine | None = None
    #: Per-area singletons registered by route modules (e.g. the Rucio catalogue).
    services: dict[str, Any] = field(default_factory=dict)
    #: monotonic time of the last request (the idle shutdown watches it).
    last_activity: float = field(default_factory=time.monotonic)

    @classmethod
    def create(cls, settings: ServerSettings) -> ServerState:
        private_dir(settings.data_dir)  # tokens, device codes and keys live here
        db = Database(settings.db_path)
        db.apply_schema(AUTH_SCHEMA)
        return cls(settings=settings, db=db, authority=Authority(settings, db))

    def set_base_url(self, url: str) -> None:
        self.internal_url = url.rstrip("/")
        self.authority.issuer = self.internal_url

    @property
    def base_url(self) -> str:
        """The base of the URLs the server hands out (storage-element PFNs, sandbox and login URLs):
        the public URL for requests that came through a proxy in front of the server
        (``settings.public_url``), the server's own address otherwise."""
        return request_base_url.get() or self.internal_url

    def base_for(self, host: str | None, forwarded: bool) -> str:
        """The base URL for a request with this Host header (``forwarded``: a proxy said it relayed it)."""
        public = self.settings.public_url
        if public and (forwarded or host != self.internal_url.split("://", 1)[-1]):
            return public.rstrip("/")
        return self.internal_url
