"""The basf2 releases the grid offers: what gb2_check_release lists and ``gbasf2 -s`` checks.

Where the list comes from. DiracX serves the grid's configuration (DIRAC's CS) to
any logged-in user at ``GET /api/config/``, as JSON with one ``Operations`` section
per VO (its ``Defaults`` merged in). gb2 reads the releases at
``Operations/<vo>/SoftwareReleases/basf2`` (a list of names), falling back to
``Operations/Defaults``. The embedded server publishes its list there.

What a real server can provide. DiracX 0.7's own configuration schema has no
place for software releases: its ``Operations`` model forbids unknown keys, so a
stock DiracX serves the configuration without a list (where BelleDIRAC keeps its
release list is not public). A Belle II extension of DiracX would add the field.
Until then gb2 says so: gb2_check_release reports that the grid publishes no list,
and ``gbasf2 -s`` checks only the form of the name, with a note in the plan.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from gb2.client.diracx import operations_values
from gb2.errors import BadInput, NotFound

#: basf2 release names: full releases, light releases, prereleases, or a git hash.
RELEASE_RE = re.compile(
    r"^(release-\d{2}-\d{2}-\d{2}|light-\d{4}-[a-z]+|prerelease-\d{2}-\d{2}-\d{2}[a-z0-9-]*|[0-9a-f]{7,40})$"
)
#: Where in the served configuration the list lives (below ``Operations/<vo>``).
CONFIG_PATH = ("SoftwareReleases", "basf2")
CONFIG_ROUTE = "/api/config/"


def check_name(release: str) -> None:
    """The form of a release name, checked without any network call."""
    if not RELEASE_RE.match(release):
        shown = release.encode("unicode_escape").decode()
        raise BadInput(f"release {shown!r} is not a basf2 release name (e.g. release-08-01-03, light-2511-gacrux)")


@dataclass
class Releases:
    """The releases a grid publishes; ``names`` is None when it publishes none."""

    source: str
    names: list[str] | None

    @property
    def published(self) -> bool:
        return self.names is not None

    def closest(self, release: str, count: int = 3) -> list[str]:
        """The published names nearest to a mistyped one (best first)."""
        return difflib.get_close_matches(release, self.names or [], n=count, cutoff=0.5)

    def unknown_message(self, release: str) -> str:
        near = self.closest(release)
        hint = f"; closest: {', '.join(near)}" if near else ""
        return f"release {release} is not available on this grid{hint} (gb2_check_release lists them)"

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "published": self.published, "releases": self.names or []}


def from_config(config: dict[str, Any], vo: str, source: str) -> Releases:
    """The list inside a served configuration (``Operations/<vo>``, then ``Operations/Defaults``)."""
    for node in operations_values(config, vo, CONFIG_PATH):
        if isinstance(node, list) and all(isinstance(n, str) for n in node):
            return Releases(source, sorted(set(node), key=_order))
        if isinstance(node, str):  # DIRAC's CS spells lists as comma-separated text
            return Releases(source, sorted({n.strip() for n in node.split(",") if n.strip()}, key=_order))
    return Releases(source, None)


def _order(name: str) -> tuple[int, str]:
    """Full releases, then light releases, then the rest; alphabetical (hence by version) within."""
    kinds = ("release-", "light-", "prerelease-")
    return next((i for i, k in enumerate(kinds) if name.startswith(k)), len(kinds)), name


def published(session: Any) -> Releases:
    """The releases the session's grid publishes (one authenticated request)."""
    vo = str(session.claims.get("vo") or "belle")
    return from_config(session.diracx.config(), vo, session.diracx_url + CONFIG_ROUTE)


def check_release(session: Any, release: str) -> str | None:
    """``gbasf2 -s``: a release the grid does not offer is bad input (with the closest
    names); returns a note for the plan when the grid publishes no list to check against."""
    check_name(release)
    offered = published(session)
    if not offered.published:
        return f"the grid publishes no list of basf2 releases: {release} was checked only for its form"
    if release not in (offered.names or []):
        raise BadInput(offered.unknown_message(release))
    return None


def require_published(offered: Releases, release: str | None = None) -> None:
    """:class:`NotFound` when the grid publishes no list (what a stock DiracX 0.7 serves)."""
    if not offered.published:
        what = f", so {release} cannot be checked" if release else ""
        raise NotFound(f"the grid publishes no list of basf2 releases (none in {offered.source}){what}")


def require(offered: Releases, release: str) -> None:
    """gb2_check_release RELEASE: available, or :class:`NotFound` with the closest names."""
    check_name(release)
    require_published(offered, release)
    if release not in (offered.names or []):
        raise NotFound(offered.unknown_message(release))
