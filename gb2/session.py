"""A session: the clients of one profile, ready to use from commands and from Python.

    from gb2.session import Session
    s = Session.open()                 # the active profile (embedded by default)
    s.diracx.search(...); s.rucio.list_files(...)

For the embedded profile the server is started on demand, and started again (on the
same port when it is free) if it dies while a command runs: the clients' retries
revive it (:meth:`Session.revive`) and carry on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from gb2.client.diracx import DiracX
from gb2.client.tokens import TokenStore
from gb2.config import Profile, active_profile
from gb2.errors import NotLoggedIn


@dataclass
class Session:
    profile: Profile
    diracx_url: str
    rucio_url: str

    @classmethod
    def open(cls, profile: str | Profile | None = None, *, start: bool = True) -> Session:
        chosen = profile if isinstance(profile, Profile) else active_profile(profile)
        if chosen.embedded:
            from gb2 import embedded

            # start=False: an offline session (e.g. reading the token cache) if the server is down.
            url = embedded.ensure_server(chosen) if start else (embedded.running_url(chosen) or "")
            return cls(chosen, url, f"{url}/rucio" if url else "")
        assert chosen.diracx_url and chosen.rucio_url
        return cls(chosen, chosen.diracx_url.rstrip("/"), chosen.rucio_url.rstrip("/"))

    @cached_property
    def tokens(self) -> TokenStore:
        return TokenStore.for_profile(self.profile.name)

    def revive(self) -> None:
        """A connection was refused: if this is the embedded server, start it again and point the clients at it."""
        if not self.profile.embedded:
            return
        from gb2 import embedded

        url = embedded.ensure_server(self.profile)
        old, self.diracx_url, self.rucio_url = self.diracx_url, url, f"{url}/rucio"
        if url != old:
            for name in ("diracx", "rucio"):
                client = self.__dict__.get(name)
                if client is not None:
                    client.api.base_url = client.api.base_url.replace(old, url, 1)
            if "diracx" in self.__dict__:
                self.diracx.base_url = url

    @cached_property
    def diracx(self) -> DiracX:
        return DiracX(self.diracx_url, self.tokens, revive=self.revive if self.profile.embedded else None)

    @cached_property
    def rucio(self) -> Any:
        from gb2.client.rucio import RucioClient

        p = self.profile
        if p.rucio_auth == "userpass":
            password = p.rucio_password()
            if not password:
                raise NotLoggedIn(f"profile {p.name}: no Rucio password (set {p.rucio_password_env or 'rucio_password_env'})")
            return RucioClient(self.rucio_url, account=p.rucio_account, username=p.rucio_username, password=password)
        return RucioClient(self.rucio_url, token=self.diracx.access_token, revive=self.revive if p.embedded else None)

    @cached_property
    def claims(self) -> dict[str, Any]:
        return self.diracx.token_claims()

    @property
    def username(self) -> str:
        """The DIRAC user name of the logged-in user (``NotLoggedIn`` if nobody is)."""
        name = self.claims.get("preferred_username")
        if not name:
            raise NotLoggedIn()
        return str(name)

    @property
    def site(self) -> str | None:
        """The user's DIRAC site: ``GB2_SITE``, the profile's, or guessed from the domain name."""
        from gb2.data.replica_order import user_site

        return user_site(self.profile.site)

    def replica_order(self) -> Any:
        """The closest healthy storage elements first (:class:`gb2.data.replica_order.ReplicaOrder`)."""
        from gb2.data.replica_order import replica_order

        return replica_order(self.rucio, self.site)

    @property
    def group(self) -> str:
        return str(self.claims.get("dirac_group", self.profile.group))
