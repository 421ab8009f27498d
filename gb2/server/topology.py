"""The sample grid of the embedded server: sites and storage elements with Belle II names.

Official data sits on ``*-DATA-SE`` storage, user output on ``*-TMP-*`` storage
(gbasf2 only lets users write to TMP SEs). Sites without storage of their own read
input remotely, so only input-less jobs (MC generation) are matched there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StorageElement:
    name: str
    site: str | None
    kind: str  # "DATA" (official data) or "TMP" (user output)
    city: str


@dataclass(frozen=True)
class Site:
    name: str
    local_ses: tuple[str, ...]
    output_se: str  # where jobs running here write their outputs
    platform: str = "EL9"  # the workers' platform (a JDL's Platform must match it)


STORAGE_ELEMENTS: tuple[StorageElement, ...] = (
    StorageElement("KEK-DATA-SE", "LCG.KEK.jp", "DATA", "Tsukuba"),
    StorageElement("KEK-TMP-DISK-SE", "LCG.KEK.jp", "TMP", "Tsukuba"),
    StorageElement("DESY-DATA-SE", "LCG.DESY.de", "DATA", "Hamburg"),
    StorageElement("DESY-TMP-SE", "LCG.DESY.de", "TMP", "Hamburg"),
)

SITES: tuple[Site, ...] = (
    Site("LCG.KEK.jp", ("KEK-DATA-SE", "KEK-TMP-DISK-SE"), "KEK-TMP-DISK-SE"),
    Site("LCG.DESY.de", ("DESY-DATA-SE", "DESY-TMP-SE"), "DESY-TMP-SE"),
    Site("LCG.KIT.de", (), "DESY-TMP-SE"),
    Site("OSG.BNL.us", (), "KEK-TMP-DISK-SE", "EL8"),
)

SE_NAMES = frozenset(se.name for se in STORAGE_ELEMENTS)
SITE_NAMES = frozenset(s.name for s in SITES)


def country(site_name: str | None) -> str:
    """The country code of a DIRAC site name (``LCG.KEK.jp`` -> ``jp``)."""
    return (site_name or "").rsplit(".", 1)[-1].lower()


def distance(source: StorageElement, dest: StorageElement) -> int:
    """Rucio's RSE distance of the sample grid (lower is closer): the same site, the same
    country, another continent. What ``/rses/<src>/distances/<dest>`` starts with."""
    if source.site and source.site == dest.site:
        return 1
    if country(source.site) == country(dest.site):
        return 2
    return 10


def site(name: str) -> Site | None:
    return next((s for s in SITES if s.name == name), None)


def storage_element(name: str) -> StorageElement | None:
    return next((se for se in STORAGE_ELEMENTS if se.name == name), None)
