"""Storage elements as users see them: what gb2_se_list shows.

One RSE listing, then attributes and usage per RSE: a handful of requests, since a
grid has tens of storage elements, not thousands. User data may only go to the
``TMP`` storage elements; ``DATA`` ones hold official production.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gb2.client.rucio import RucioClient, exception_class
from gb2.errors import BadInput, RequestRefused
from gb2.workers import worker_pool


@dataclass
class StorageElementInfo:
    name: str
    kind: str  # "DATA" | "TMP" | "" (the Belle II "type" attribute)
    site: str
    city: str
    writable: bool
    used_bytes: int | None
    files: int | None

    @property
    def for_user_data(self) -> bool:
        return self.kind == "TMP"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "for_user_data": self.for_user_data}


def se_kind(name: str, attributes: dict[str, Any]) -> str:
    """DATA or TMP: the RSE's ``type`` (or ``storage_kind``) attribute, else what its Belle II name says."""
    kind = attributes.get("type") or attributes.get("storage_kind")
    if kind:
        return str(kind)
    return "TMP" if "TMP" in name else "DATA" if "DATA" in name else ""


def _describe(rucio: RucioClient, rse: dict[str, Any]) -> StorageElementInfo:
    name = rse["rse"]
    attrs = rucio.rse_attributes(name)
    usage = next((u for u in rucio.rse_usage(name) if u.get("source") == "rucio"), None)
    kind = se_kind(name, attrs)
    return StorageElementInfo(
        name=name,
        kind=kind,
        site=str(attrs.get("site") or ""),
        city=str(attrs.get("city") or rse.get("city") or ""),
        writable=bool(rse.get("availability_write", True)),
        used_bytes=usage.get("used") if usage else None,
        files=usage.get("files") if usage else None,
    )


def require_ses(rucio: RucioClient, names: dict[str, str | None]) -> None:
    """Each named storage element exists (``{option: name}``; one RSE listing): an unknown
    one is a bad option value (exit 2), found before anything is done."""
    known = {r["rse"] for r in rucio.list_rses()}
    for option, name in names.items():
        if name is not None and name not in known:
            raise BadInput(f"{option}: unknown storage element {name!r} (gb2_se_list shows them)")


def matching_rses(rucio: RucioClient, expression: str | None) -> list[dict[str, Any]]:
    """RSEs of an RSE expression. One that selects nothing is an empty list (a filter that
    matches nothing is not an error); one Rucio cannot parse is bad input."""
    try:
        return rucio.list_rses(expression)
    except RequestRefused as exc:
        if exception_class(exc) == "InvalidRSEExpression":
            if "empty set" in str(exc):
                return []
            raise BadInput(f"invalid RSE expression {expression!r}: {exc}") from None
        raise


def storage_elements(rucio: RucioClient, expression: str | None = None) -> list[StorageElementInfo]:
    rses = matching_rses(rucio, expression)
    with worker_pool(8) as pool:
        return sorted(pool.map(lambda r: _describe(rucio, r), rses), key=lambda s: s.name)
