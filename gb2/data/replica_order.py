"""The closest healthy replica first, as gbasf2 does: "first the local storage element,
then the next closest".

The user's site comes from the profile (``gb2_config site NAME``, or ``GB2_SITE`` for
one command), else it is guessed from this machine's domain name (``*.kek.jp`` is
``LCG.KEK.jp``). The catalogue knows the topology: which storage elements belong to
that site (the RSE attribute ``site``), Rucio's RSE distances from those to the
others (lower is closer), and which storage elements are flagged down for reading
(``availability_read``). A handful of requests: one RSE listing (availability, every
time), the RSEs' sites (kept a day in the cache folder: Rucio's expressions cannot
name a DIRAC site, whose name has dots, and a grid has tens of RSEs), and one
distance per local and candidate RSE pair.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from gb2.client.rucio import RucioClient
from gb2.errors import Gb2Error
from gb2.fileio import write_atomic
from gb2.paths import cache_dir

#: Domain names of Belle II sites with storage, for guessing the user's site.
SITE_DOMAINS: dict[str, str] = {
    "kek.jp": "LCG.KEK.jp",
    "desy.de": "LCG.DESY.de",
    "kit.edu": "LCG.KIT.de",
    "bnl.gov": "OSG.BNL.us",
    "cnaf.infn.it": "LCG.CNAF.it",
    "na.infn.it": "LCG.Napoli.it",
    "pi.infn.it": "LCG.Pisa.it",
    "cesnet.cz": "LCG.CESNET.cz",
    "ijs.si": "ARC.SIGNET.si",
}
UNKNOWN = 1 << 30
SITE_CACHE_SECONDS = 24 * 3600


def guess_site(fqdn: str | None = None) -> str | None:
    """The Belle II site of this machine, from its domain name; None if it is not a known site's."""
    name = (fqdn if fqdn is not None else socket.getfqdn()).lower().rstrip(".")
    for domain, site in sorted(SITE_DOMAINS.items(), key=lambda kv: -len(kv[0])):
        if name == domain or name.endswith("." + domain):
            return site
    return None


def user_site(configured: str | None) -> str | None:
    """``GB2_SITE``, else the profile's site, else the guess (empty ``GB2_SITE``: no site)."""
    if "GB2_SITE" in os.environ:
        return os.environ["GB2_SITE"].strip() or None
    return configured or guess_site()


class Distances(Mapping[str, int]):
    """Rucio's distance from the user's site to each RSE (the smallest from any of the site's
    own RSEs), asked for only when first needed, several at once, and remembered."""

    def __init__(self, rucio: RucioClient | None = None, local: frozenset[str] = frozenset(),
                 known: Mapping[str, int] | None = None) -> None:  # fmt: skip
        self._rucio = rucio
        self._local = sorted(local)
        self._found: dict[str, int | None] = dict(known or {})
        self._lock = threading.Lock()

    def prefetch(self, rses: Iterable[str]) -> None:
        wanted = [r for r in dict.fromkeys(rses) if r not in self._found and r not in self._local]
        if not wanted or self._rucio is None or not self._local:
            with self._lock:
                self._found.update(dict.fromkeys(wanted))
            return
        from gb2.workers import worker_pool

        rucio = self._rucio
        pairs = [(a, b) for b in wanted for a in self._local]
        with worker_pool(min(8, len(pairs))) as pool:
            values = list(pool.map(lambda p: _distance(rucio, *p), pairs))
        best: dict[str, int | None] = dict.fromkeys(wanted)
        for (_, dest), value in zip(pairs, values, strict=True):
            if value is not None:
                current = best[dest]
                best[dest] = value if current is None else min(current, value)
        with self._lock:
            self._found.update(best)

    def __getitem__(self, rse: str) -> int:
        if rse not in self._found:
            self.prefetch([rse])
        value = self._found.get(rse)
        if value is None:
            raise KeyError(rse)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, v in self._found.items() if v is not None])

    def __len__(self) -> int:
        return sum(1 for v in self._found.values() if v is not None)


@dataclass(frozen=True)
class ReplicaOrder:
    """How to rank storage elements for one user: local ones, then by distance; down ones never."""

    site: str | None = None
    local: frozenset[str] = frozenset()
    down: frozenset[str] = frozenset()
    distances: Mapping[str, int] = field(default_factory=dict)

    def rank(self, rse: str) -> tuple[int, int]:
        return (0 if rse in self.local else 1, 0 if rse in self.local else self.distances.get(rse, UNKNOWN))

    def sort(self, rses: Iterable[str]) -> list[str]:
        """Closest first (stable: equally close ones keep their order); down ones included, last."""
        items = list(dict.fromkeys(rses))
        if isinstance(self.distances, Distances):
            self.distances.prefetch(r for r in items if r not in self.local)
        return sorted(items, key=lambda r: (r in self.down, self.rank(r)))

    def usable(self, rses: Iterable[str]) -> list[str]:
        """Closest first, without the storage elements flagged down."""
        return [r for r in self.sort(rses) if r not in self.down]

    def note(self, rse: str) -> str:
        """A few words on where an RSE stands, for listings."""
        if rse in self.down:
            return "storage element down"
        if rse in self.local:
            return f"local to {self.site}"
        if rse in self.distances:
            return f"distance {self.distances[rse]}"
        return ""


def replica_order(rucio: RucioClient, site: str | None) -> ReplicaOrder:
    """The topology around ``site``: one RSE listing, the RSEs' sites (cached), and distances
    asked for later, only for the storage elements that hold something wanted."""
    summaries = rucio.list_rses()
    down = frozenset(r["rse"] for r in summaries if r.get("availability_read") is False)
    local: frozenset[str] = frozenset()
    if site:
        sites = rse_sites(rucio, [r["rse"] for r in summaries])
        local = frozenset(name for name, where in sites.items() if where == site)
    return ReplicaOrder(site, local, down, Distances(rucio, local))


def rse_sites(rucio: RucioClient, names: list[str]) -> dict[str, str]:
    """RSE -> its ``site`` attribute, from a cache per catalogue refreshed daily (or when
    an RSE is new to it); attributes are read in parallel."""
    import hashlib

    path = cache_dir() / "topology" / (hashlib.sha256(rucio.api.base_url.encode()).hexdigest()[:16] + ".json")
    cached: dict[str, str] = {}
    try:
        if time.time() - path.stat().st_mtime < SITE_CACHE_SECONDS:
            cached = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        cached = {}
    missing = [n for n in names if n not in cached]
    if not missing:
        return {n: cached[n] for n in names}
    from gb2.workers import worker_pool

    with worker_pool(min(8, len(missing))) as pool:
        for name, attrs in zip(missing, pool.map(lambda n: _attributes(rucio, n), missing), strict=True):
            cached[name] = str(attrs.get("site") or "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(cached, sort_keys=True))
        for old in path.parent.glob("*.json"):  # catalogues gone (an embedded server's old port)
            if time.time() - old.stat().st_mtime > SITE_CACHE_SECONDS:
                old.unlink(missing_ok=True)
    except (OSError, Gb2Error):
        pass  # a cache that cannot be written only costs the same requests next time
    return {n: cached[n] for n in names}


def _attributes(rucio: RucioClient, rse: str) -> dict:
    try:
        return rucio.rse_attributes(rse)
    except Gb2Error:
        return {}


def _distance(rucio: RucioClient, source: str, dest: str) -> int | None:
    try:
        return rucio.get_distance(source, dest)
    except Gb2Error:
        return None
