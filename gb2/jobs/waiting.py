"""Why a job waits (gb2_diagnostic --waiting_job): what keeps it from a worker, and what to do.

A job waits until a site that may run it has a free slot. gb2 looks at what the
grid says about it, in a few requests whatever the grid's size:

* the job's requirements: its JDL's ``Site``, ``BannedSites``, ``Platform`` and
  ``InputData`` (gb2's server gives a JDL back; DiracX 0.7 cannot, and then only the
  reasons that do not need it are checked);
* the sites: the configuration's ``Resources/Sites`` (each site's platform and queue
  size), the site mask (``/api/rss/site``) and gb2_site_status's flags;
* where its input is: one replica listing, the storage elements' sites and
  availability;
* the load: one summary of the jobs running per site, and two counts of the jobs
  waiting ahead of it (higher priority, or as high and older).

Reasons, most decisive first: no site matches its requirements (its --site, banned
sites, platform), its input's replicas only at banned or unhealthy sites or on
storage that is down, its sites banned, its sites full, jobs ahead of it by priority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gb2.errors import Gb2Error, NotOffered
from gb2.jobs import jdl
from gb2.jobs.peek import job_record

WAITING_STATES = frozenset({"Submitting", "Received", "Checking", "Scouting", "Staging", "Waiting", "Rescheduled"})
RECORD = ["JobID", "JobName", "JobGroup", "Owner", "Status", "MinorStatus", "ApplicationStatus", "Site",
          "UserPriority", "SubmissionTime", "LastUpdateTime", "RescheduleCounter"]  # fmt: skip
#: A job waiting less than this long is simply in the queue.
PATIENCE_SECONDS = 120


@dataclass
class Reason:
    reason: str  # a short key: no-site, platform, input-banned, input-down, banned, full, priority, queue
    detail: str
    advice: str
    command: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail, "advice": self.advice, "command": self.command}


@dataclass
class SiteInfo:
    name: str
    platform: str | None = None
    slots: int | None = None
    banned: str | None = None  # why, if banned
    flagged: str | None = None
    running: int = 0


@dataclass
class WaitingReport:
    job: dict[str, Any]
    waited_seconds: float | None
    candidates: list[str] | None = None  # sites that may run it (None: unknown)
    reasons: list[Reason] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"job": self.job, "waiting_seconds": self.waited_seconds, "candidate_sites": self.candidates,
                "reasons": [r.as_json() for r in self.reasons], "notes": self.notes}  # fmt: skip


def _age(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        dt = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - dt).total_seconds())


def _sites(session: Any, report: WaitingReport) -> dict[str, SiteInfo]:
    """What the grid publishes about its sites: configuration, site mask, flags, load."""
    from gb2.jobs.health import site_health

    dx = session.diracx
    sites: dict[str, SiteInfo] = {}
    try:
        for grid in ((dx.config().get("Resources") or {}).get("Sites") or {}).values():
            for name, site in (grid or {}).items():
                info = sites.setdefault(name, SiteInfo(name))
                for ce in (site.get("CEs") or {}).values():
                    info.platform = info.platform or ce.get("Platform")
                    for queue in (ce.get("Queues") or {}).values():
                        info.platform = queue.get("Platform") or info.platform
                        if queue.get("MaxTotalJobs") is not None:
                            info.slots = (info.slots or 0) + int(queue["MaxTotalJobs"])
    except (Gb2Error, AttributeError, TypeError, ValueError):
        pass
    if not sites:
        report.notes.append("the grid's configuration lists no sites (Resources/Sites): platforms and queue sizes "
                            "are not checked")  # fmt: skip
    health = site_health(dx)
    for site in health.sites:
        info = sites.setdefault(site.name, SiteInfo(site.name))
        info.banned = site.ban_reason if site.banned else None
        info.flagged = "; ".join(site.flags) or None
    for row in dx.summary(["Site", "Status"], [{"parameter": "Status", "operator": "in",
                                                 "values": ["Matched", "Running", "Completing"]}]):  # fmt: skip
        if str(row.get("Site")) in sites:
            sites[str(row["Site"])].running += int(row["count"])
    return sites


def _input_sites(session: Any, lfns: list[str], report: WaitingReport) -> tuple[list[set[str]], set[str]]:
    """Per input file: the sites holding a usable replica; and the storage elements down."""
    from gb2.data.lfn import Did
    from gb2.data.replica_order import rse_sites

    rucio = session.rucio
    down = {r["rse"] for r in rucio.list_rses() if r.get("availability_read") is False}
    replicas = {r["name"]: r for r in rucio.list_replicas([Did.from_lfn(lfn) for lfn in lfns])}
    ses = sorted({se for r in replicas.values() for se in (r.get("rses") or {})} | down)
    site_of = rse_sites(rucio, ses) if ses else {}
    per_file = []
    for lfn in lfns:
        states = (replicas.get(lfn) or {}).get("states") or {}
        usable = {se for se in ((replicas.get(lfn) or {}).get("rses") or {}) if states.get(se, "AVAILABLE") == "AVAILABLE"}
        per_file.append({site_of.get(se, "") for se in usable - down} - {""})
    held_on_down = {se for r in replicas.values() for se in (r.get("rses") or {}) if se in down}
    return per_file, held_on_down


def explain_waiting(session: Any, job_id: int) -> WaitingReport:
    dx = session.diracx
    job = job_record(session, job_id, RECORD)
    report = WaitingReport(job, _age(job.get("LastUpdateTime")))
    status = str(job["Status"])
    if status not in WAITING_STATES:
        what = "it runs" if status in ("Matched", "Running", "Completing") else "it has ended"
        report.reasons.append(Reason("not-waiting", f"the job is {status} ({job['MinorStatus']}): {what}",
                                     "nothing to explain: gb2_job_status -j ID follows it"))  # fmt: skip
        return report
    try:
        text = dx.job_jdls([job_id]).get(int(job_id))
    except NotOffered as exc:
        text = None
        report.notes.append(f"{exc}: the job's sites, platform and input cannot be checked")
    ad = jdl.parse(text) if text else None
    sites = _sites(session, report)
    if ad is None:
        candidates = sorted(sites)
        wanted_platforms: set[str] = set()
    else:
        wanted = {s for s in ad.strings("Site") if s.upper() != "ANY"}
        banned_by_job = set(ad.strings("BannedSites")) | set(ad.strings("BannedSite"))
        wanted_platforms = {p for p in ad.strings("Platform") if p.upper() != "ANY"}
        candidates = sorted(s for s in sites if (not wanted or s in wanted) and s not in banned_by_job)
        if not candidates:
            report.reasons.append(Reason("no-site", f"no site is left by its --site {sorted(wanted) or 'ANY'} and "
                                         f"--banned_site {sorted(banned_by_job)}",
                                         "kill it and submit it again with other sites", f"gb2_job_kill -j {job_id}"))  # fmt: skip
            report.candidates = []
            return report
        lfns = jdl.lfn_list(ad.strings("InputData"))
        if lfns:
            per_file, down = _input_sites(session, lfns, report)
            holding = set.intersection(*per_file) if per_file else set()
            with_input = [s for s in candidates if s in holding]
            if not with_input:
                lost = [lfn for lfn, where in zip(lfns, per_file, strict=True) if not where]
                if down and lost:
                    report.reasons.append(Reason("input-down", f"its input {lost[0]} is only on storage that is down "
                                                 f"({', '.join(sorted(down))})", "wait for the storage to come back, or "
                                                 "copy the input elsewhere (gb2_ds_rep) and submit again"))  # fmt: skip
                else:
                    report.reasons.append(Reason("no-site", f"no site among {candidates} holds all its input (held at "
                                                 f"{sorted(set().union(*per_file))})", "kill it and submit it again "
                                                 "without those --site/--banned_site choices", f"gb2_job_kill -j {job_id}"))  # fmt: skip
                report.candidates = []
                return report
            unusable = [s for s in with_input if sites[s].banned or sites[s].flagged]
            if unusable and len(unusable) == len(with_input):
                why = "; ".join(f"{s}: {'banned (' + str(sites[s].banned) + ')' if sites[s].banned else 'flagged'}"
                                for s in unusable)  # fmt: skip
                report.reasons.append(Reason("input-banned", f"its input's replicas are only at banned or unhealthy "
                                             f"sites ({why})", "wait for them to come back, or replicate the input to "
                                             "another site's storage (gb2_ds_rep -d SE DATASET)"))  # fmt: skip
            candidates = with_input
        if wanted_platforms:
            offering = [s for s in candidates if sites[s].platform in wanted_platforms or sites[s].platform is None]
            if not offering:
                offered = ", ".join(sorted(f"{sites[s].platform} ({s})" for s in candidates if sites[s].platform))
                report.reasons.append(Reason("platform", f"no site offers the platform {', '.join(sorted(wanted_platforms))} "
                                             f"it asks for (offered: {offered})", "it will wait for ever: kill it and "
                                             "submit it again without --platform or with one offered",
                                             f"gb2_job_kill -j {job_id}"))  # fmt: skip
                report.candidates = []
                return report
            candidates = offering
    report.candidates = candidates if sites else None  # no site known: nothing to say about them
    open_sites = [s for s in candidates if not sites[s].banned]
    if candidates and not open_sites and not any(r.reason == "input-banned" for r in report.reasons):
        why = "; ".join(f"{s} ({sites[s].banned})" for s in candidates)
        report.reasons.append(Reason("banned", f"every site that may run it is banned: {why}",
                                     "it starts when one comes back (gb2_site_status shows them)"))  # fmt: skip
        return report
    full = [s for s in open_sites if sites[s].slots is not None and sites[s].running >= sites[s].slots]
    if open_sites and len(full) == len(open_sites):
        load = ", ".join(f"{s}: {sites[s].running} running of {sites[s].slots} slots" for s in full)
        report.reasons.append(Reason("full", f"the sites that may run it are full ({load})",
                                     "nothing to do: it starts when a slot there frees"))  # fmt: skip
    busy = sum(sites[s].running for s in open_sites)
    ahead = _ahead(dx, job) if full or busy else 0
    if ahead:
        report.reasons.append(Reason("priority", f"{ahead} waiting job(s) of yours come first (a higher priority, or "
                                     f"as high and submitted earlier) while {busy} job(s) run at its sites",
                                     "they run first; gbasf2 --priority (0-10) sets a project's priority"))  # fmt: skip
    if not report.reasons:
        waited = report.waited_seconds or 0
        quick = waited < PATIENCE_SECONDS
        where = f" at {', '.join(open_sites)}" if open_sites else ""
        report.reasons.append(Reason("queue", f"waiting for {waited:.0f} s for a slot{where}",
                                     "nothing to do: that is the usual queue" if quick else
                                     "nothing points at the job; if it keeps waiting, gb2_site_status shows the sites"))  # fmt: skip
    return report


def _ahead(dx: Any, job: dict[str, Any]) -> int:
    """The owner's waiting jobs that the matcher takes first: higher priority, or as high and older."""
    base = [{"parameter": "Owner", "operator": "eq", "value": job["Owner"]},
            {"parameter": "Status", "operator": "eq", "value": "Waiting"}]  # fmt: skip
    priority = int(job.get("UserPriority") or 0)
    higher = dx.search(["JobID"], [*base, {"parameter": "UserPriority", "operator": "gt", "value": priority}],
                       per_page=1).total  # fmt: skip
    older = dx.search(["JobID"], [*base, {"parameter": "UserPriority", "operator": "eq", "value": priority},
                                  {"parameter": "JobID", "operator": "lt", "value": int(job["JobID"])}], per_page=1).total  # fmt: skip
    return int(higher) + int(older)
