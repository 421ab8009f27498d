"""Everything a route needs, built once per server: settings, database, token authority."""

from __future__ import annotations

import time
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


@dataclass
class ServerState:
    settings: ServerSettings
    db: Database
    authority: Authority
    base_url: str = ""
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
        self.base_url = url.rstrip("/")
        self.authority.issuer = self.base_url
