"""Your usage per storage element against your account's limits: what gb2_check_quota shows.

One streamed call (``GET /accounts/<you>/usage/local``) gives, per storage element
where you have a limit or data, the bytes and files counted against you, the limit
and what remains. A real Rucio updates these counters in a daemon every few
minutes, so fresh uploads may show up a little later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gb2.client.rucio import RucioClient

#: Warn when this fraction of a limit is used.
WARN_AT = 0.9


@dataclass
class Quota:
    se: str
    used_bytes: int
    files: int
    limit_bytes: float | None  # None: no limit set; inf: unlimited

    @property
    def unlimited(self) -> bool:
        return self.limit_bytes is not None and math.isinf(self.limit_bytes)

    @property
    def remaining_bytes(self) -> float | None:
        if self.limit_bytes is None or self.unlimited:
            return None
        return self.limit_bytes - self.used_bytes

    @property
    def used_fraction(self) -> float | None:
        if self.limit_bytes is None or self.unlimited:
            return None
        return self.used_bytes / self.limit_bytes if self.limit_bytes > 0 else (1.0 if self.used_bytes else 0.0)

    @property
    def full(self) -> bool:
        fraction = self.used_fraction
        return fraction is not None and fraction >= 1.0

    @property
    def warning(self) -> str | None:
        """A sentence when the limit is near or reached."""
        from gb2.ui.output import human_bytes

        fraction = self.used_fraction
        if fraction is None or fraction < WARN_AT:
            return None
        what = "is full" if self.full else f"is {fraction * 100:.0f} % full"
        return (f"your quota on {self.se} {what} ({human_bytes(self.used_bytes)} of {human_bytes(self.limit_bytes)}): "
                "remove data you no longer need with gb2_ds_rm, or write elsewhere")  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {"se": self.se, "used_bytes": self.used_bytes, "files": self.files,
                "limit_bytes": None if self.unlimited else self.limit_bytes, "unlimited": self.unlimited,
                "remaining_bytes": self.remaining_bytes, "used_fraction": self.used_fraction,
                "warning": self.warning}  # fmt: skip


def quotas(rucio: RucioClient, account: str, se: str | None = None) -> list[Quota]:
    """Usage and limits per storage element, sorted by name."""
    rows = []
    for u in rucio.local_account_usage(account, se):
        limit = u.get("bytes_limit")
        rows.append(Quota(str(u.get("rse")), int(u.get("bytes") or 0), int(u.get("files") or 0),
                          float(limit) if isinstance(limit, (int, float)) else None))  # fmt: skip
    return sorted(rows, key=lambda q: q.se)
