"""Site and storage health: what gb2_site_status shows and what gbasf2 leaves out of a plan.

Sites. One server-side summary, grouped by ``Site`` and ``Status``, of the jobs whose
last update falls in the window (default 24 h; the jobs visible to you: all of the VO
where the server's GlobalJobsInfo allows it), counted by their status now; and the
site mask (DiracX's ``/api/rss/site``: banned sites, with the reason). A site's failure
rate is its failed jobs (Failed, Stalled) over its ended ones (Done, Completed, Failed,
Stalled). The rules (README, "Site and storage health"):

* a site is **flagged** when it ended at least :data:`MIN_ENDED` jobs in the window and
  its failure rate is at least the VO's median (over the sites that ended jobs in the
  window) plus :data:`MARGIN`, and at least :data:`FACTOR` times that median;
* a storage element is **flagged** when it is over :data:`SE_FULL` full (Rucio's
  ``storage`` usage: used against total), or when Rucio marks it unavailable for reading
  or writing (availability flags: unreachable or in downtime).

Storage: one RSE listing and one usage call per RSE (tens, not thousands), in parallel.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from gb2.errors import Gb2Error
from gb2.workers import worker_pool

WINDOW_HOURS = 24.0
MIN_ENDED = 5
MARGIN = 0.25
FACTOR = 2.0
SE_FULL = 0.95
FAILED = ("Failed", "Stalled")
ENDED = ("Done", "Completed", "Failed", "Stalled")
RUNNING = ("Running", "Completing", "Matched")
WAITING = ("Submitting", "Received", "Checking", "Scouting", "Staging", "Waiting", "Rescheduled")
NOT_MATCHED = ("ANY", "Multiple", "Unknown", "")


@dataclass
class SiteHealth:
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    banned: bool = False
    ban_reason: str | None = None
    flags: list[str] = field(default_factory=list)

    def _sum(self, statuses: tuple[str, ...]) -> int:
        return sum(self.counts.get(s, 0) for s in statuses)

    @property
    def failed(self) -> int:
        return self._sum(FAILED)

    @property
    def ended(self) -> int:
        return self._sum(ENDED)

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.ended if self.ended else None

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def as_json(self) -> dict[str, Any]:
        return {"site": self.name, "running": self._sum(RUNNING), "waiting": self._sum(WAITING),
                "done": self._sum(("Done", "Completed")), "failed": self.failed, "ended": self.ended,
                "failure_rate": self.failure_rate, "banned": self.banned, "ban_reason": self.ban_reason,
                "flagged": self.flagged, "flags": self.flags, "counts": self.counts}  # fmt: skip


@dataclass
class StorageHealth:
    name: str
    used_bytes: int | None = None
    total_bytes: int | None = None
    readable: bool = True
    writable: bool = True
    flags: list[str] = field(default_factory=list)

    @property
    def fill(self) -> float | None:
        if self.used_bytes is None or not self.total_bytes:
            return None
        return self.used_bytes / self.total_bytes

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def as_json(self) -> dict[str, Any]:
        return {"se": self.name, "used_bytes": self.used_bytes, "total_bytes": self.total_bytes, "fill": self.fill,
                "readable": self.readable, "writable": self.writable, "flagged": self.flagged, "flags": self.flags}  # fmt: skip


@dataclass
class GridHealth:
    hours: float
    since: str
    sites: list[SiteHealth]
    median_failure_rate: float | None
    storage: list[StorageHealth] = field(default_factory=list)
    waiting_unmatched: int = 0  # waiting jobs not bound to one site yet
    notes: list[str] = field(default_factory=list)

    @property
    def flagged_sites(self) -> list[SiteHealth]:
        return [s for s in self.sites if s.flagged]

    def as_json(self) -> dict[str, Any]:
        return {"window_hours": self.hours, "since": self.since, "median_failure_rate": self.median_failure_rate,
                "sites": [s.as_json() for s in self.sites], "waiting_unmatched": self.waiting_unmatched,
                "storage_elements": [s.as_json() for s in self.storage], "notes": self.notes}  # fmt: skip


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f} %"


def site_health(dx: Any, hours: float = WINDOW_HOURS) -> GridHealth:
    """Sites with their counts in the window, banned and flagged (two requests)."""
    since = datetime.now(timezone.utc) - timedelta(hours=hours)
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    health = GridHealth(hours, since.isoformat(timespec="seconds"), [], None)
    sites: dict[str, SiteHealth] = {}
    for row in dx.summary(["Site", "Status"], [{"parameter": "LastUpdateTime", "operator": "gt", "value": stamp}]):
        name, status, n = str(row.get("Site") or ""), str(row["Status"]), int(row["count"])
        if name in NOT_MATCHED:
            if status in WAITING:
                health.waiting_unmatched += n
            continue
        site = sites.setdefault(name, SiteHealth(name))
        site.counts[status] = site.counts.get(status, 0) + n
    try:
        for name, status in dx.site_mask().items():
            site = sites.setdefault(name, SiteHealth(name))
            state = (status or {}).get("all") or {}
            if state.get("allowed") is False:
                site.banned, site.ban_reason = True, str(state.get("reason") or "Banned")
    except Gb2Error as exc:
        health.notes.append(f"the site mask could not be read ({exc}): banned sites are not shown")
    rates = [s.failure_rate for s in sites.values() if s.failure_rate is not None]
    health.median_failure_rate = statistics.median(rates) if rates else None
    median = health.median_failure_rate or 0.0
    for site in sites.values():
        rate = site.failure_rate
        if rate is not None and site.ended >= MIN_ENDED and rate >= median + MARGIN and rate >= FACTOR * median:
            site.flags.append(f"failure rate {percent(rate)} of {site.ended} ended jobs in {hours:g} h "
                              f"against a median of {percent(median)}")  # fmt: skip
    health.sites = sorted(sites.values(), key=lambda s: s.name)
    return health


def _usage(rucio: Any, rse: dict[str, Any]) -> StorageHealth:
    name = str(rse["rse"])
    se = StorageHealth(name, readable=rse.get("availability_read") is not False,
                       writable=rse.get("availability_write") is not False)  # fmt: skip
    try:
        usages = {u.get("source"): u for u in rucio.rse_usage(name)}
    except Gb2Error:
        usages = {}
    storage = usages.get("storage")
    if storage and storage.get("total"):
        se.used_bytes, se.total_bytes = int(storage.get("used") or 0), int(storage["total"])
    elif usages.get("rucio"):
        se.used_bytes = int(usages["rucio"].get("used") or 0)
    if se.fill is not None and se.fill > SE_FULL:
        se.flags.append(f"{se.fill * 100:.1f} % full (over {SE_FULL * 100:.0f} %)")
    if not se.readable or not se.writable:
        down = " and ".join(w for w, ok in (("reading", se.readable), ("writing", se.writable)) if not ok)
        se.flags.append(f"unavailable for {down} (Rucio's availability)")
    return se


def storage_health(rucio: Any) -> list[StorageHealth]:
    rses = rucio.list_rses()
    with worker_pool(8) as pool:
        return sorted(pool.map(lambda r: _usage(rucio, r), rses), key=lambda s: s.name)


def grid_health(session: Any, hours: float = WINDOW_HOURS, *, storage: bool = True) -> GridHealth:
    health = site_health(session.diracx, hours)
    if storage:
        health.storage = storage_health(session.rucio)
    return health


def flagged_site_names(session: Any, hours: float = WINDOW_HOURS) -> dict[str, str]:
    """Flagged sites -> why (what gbasf2 leaves out of a plan)."""
    return {s.name: "; ".join(s.flags) for s in site_health(session.diracx, hours).flagged_sites}


def leave_out_flagged_sites(session: Any, request: Any, jobs_inputs: list[list[Any]]) -> list[str]:
    """gbasf2's plan: add the flagged sites to the request's banned sites (notes say so). A
    flagged site holding the only usable replicas of a job's input is kept, and a site the user
    named with --site is the user's choice."""
    from gb2.data.replica_order import rse_sites

    try:
        flagged = {s: why for s, why in flagged_site_names(session).items() if s not in request.banned_sites}
    except Gb2Error as exc:  # the plan does not depend on it: say so and go on
        return [f"Note: the sites' health could not be checked ({exc}); no site was left out"]
    if not flagged:
        return []
    if request.sites:
        chosen = [s for s in request.sites if s in flagged]
        return [f"Note: you asked for {', '.join(chosen)}, flagged by gb2_site_status ({flagged[chosen[0]]})"] if chosen else []
    needed: set[str] = set()
    ses = sorted({se for job in jobs_inputs for f in job for se in f.rses})
    if ses:
        site_of = rse_sites(session.rucio, ses)
        for job in jobs_inputs:
            if not job:
                continue
            sites = set.intersection(*[{site_of.get(se) or "" for se in f.rses} - {""} for f in job])
            if not sites - set(request.banned_sites) - set(flagged):
                needed |= sites & set(flagged)
    left_out = [s for s in sorted(flagged) if s not in needed]
    request.banned_sites.extend(left_out)
    notes = []
    if left_out:
        notes.append("Left out of the plan, flagged by gb2_site_status (--use_flagged_sites uses them): "
                     + "; ".join(f"{s}: {flagged[s]}" for s in left_out))  # fmt: skip
    if needed:
        notes.append(f"Kept although flagged by gb2_site_status: {', '.join(sorted(needed))} (the only replicas of "
                     "some inputs are there)")  # fmt: skip
    return notes
