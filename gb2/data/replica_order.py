"""The closest healthy replica first, as gbasf2 does: "first the local storage element,
then the next closest".

The user's site comes from the profile (``gb2_config site NAME``, or ``GB2_SITE`` for
one command), else it is guessed from this machine's domain name (``*.kek.jp`` is
``LCG.KEK.jp``). The catalogue knows the topology: which storage elements belong to
that site (the RSE attribute ``site``, found with the RSE expression ``site=<site>``),
Rucio's RSE distances from those to the others (lower is closer), and which storage
elements are flagged down for reading (``availability_read``). A handful of requests:
one RSE listing, one expression, and one distance per local and candidate RSE pair.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from gb2.client.rucio import RucioClient
from gb2.errors import Gb2Error

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


def replica_order(rucio: RucioClient, site: str | None, candidates: Iterable[str] | None = None) -> ReplicaOrder:
    """Ask the catalogue for the topology around ``site`` (distances only to ``candidates``,
    by default every RSE)."""
    summaries = rucio.list_rses()
    down = frozenset(r["rse"] for r in summaries if r.get("availability_read") is False)
    local: frozenset[str] = frozenset()
    if site:
        try:
            local = frozenset(r["rse"] for r in rucio.list_rses(f"site={site}"))
        except Gb2Error:  # no RSE at that site: Rucio calls the empty expression invalid
            local = frozenset()
    others = [r for r in (candidates if candidates is not None else (s["rse"] for s in summaries)) if r not in local]
    pairs = [(a, b) for a in sorted(local) for b in dict.fromkeys(others)]
    distances: dict[str, int] = {}
    if pairs:
        with ThreadPoolExecutor(max_workers=min(8, len(pairs))) as pool:
            for (_, dest), value in zip(pairs, pool.map(lambda p: _distance(rucio, *p), pairs), strict=True):
                if value is not None:
                    distances[dest] = min(value, distances.get(dest, value))
    return ReplicaOrder(site, local, down, distances)


def _distance(rucio: RucioClient, source: str, dest: str) -> int | None:
    try:
        return rucio.get_distance(source, dest)
    except Gb2Error:
        return None
