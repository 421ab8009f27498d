"""Failure clusters: a selection's failed jobs grouped by cause and by the signature of
their logs, each with what to do as a runnable command.

One paged search lists the failed (Failed, Killed, Stalled) jobs; their logs are read
once each (:mod:`gb2.jobs.logcache`) and reduced to a signature
(:mod:`gb2.jobs.signature`); jobs of the same cause (:func:`gb2.jobs.diagnosis.classify`)
and signature form a cluster. One server-side summary of the selection per site gives
the context the suggestions need (where else the jobs ran). Suggestions:

* input data failing at some sites only: reschedule the cluster with those sites banned;
* CPU time: reschedule with twice the CPU time the jobs had;
* the analysis itself (basf2 failed with an error): deterministic, fix the steering file;
  rescheduling would fail the same way;
* a lost worker, a kill, a transfer: reschedule as they are.

A cluster's id (``<cause>-<6 hex>``) depends only on its cause and signature, so it
stays the same while the failures do: ``gb2_job_reschedule -p P --cluster ID`` acts on
the jobs of that cluster.
"""

from __future__ import annotations

import math
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gb2.client.diracx import DiracX
from gb2.errors import NotFound
from gb2.jobs.diagnosis import classify
from gb2.jobs.logcache import LogCache, ReadStats, digests
from gb2.jobs.replace import Overrides
from gb2.jobs.signature import LogDigest, Signature, signature
from gb2.jobs.states import FATAL_STATES
from gb2.jobs.status import Selection, counts_by

FAILED_PARAMETERS = ["JobID", "JobName", "JobGroup", "Owner", "Status", "MinorStatus", "ApplicationStatus", "Site",
                     "RescheduleCounter", "LastUpdateTime"]  # fmt: skip
#: Causes whose jobs fail the same way when run again: never retried automatically (a job
#: whose scout failed never ran: running it again waits for the same scouts).
DETERMINISTIC = frozenset({"analysis", "too many reschedules", "scout failed"})
EXAMPLES = 2


@dataclass
class Cluster:
    id: str
    cause: str
    signature: Signature
    job_ids: list[int] = field(default_factory=list)
    sites: Counter[str] = field(default_factory=Counter)
    example_lines: list[str] = field(default_factory=list)  # the raw lines of its first job
    cpu_time: int | None = None  # seconds the jobs had (from their logs), if known
    advice: str = ""
    command: list[str] | None = None
    overrides: Overrides | None = None  # what a retry should change (None: run as they were)

    @property
    def count(self) -> int:
        return len(self.job_ids)

    @property
    def examples(self) -> list[int]:
        return self.job_ids[:EXAMPLES]

    @property
    def deterministic(self) -> bool:
        return self.cause in DETERMINISTIC

    @property
    def command_line(self) -> str | None:
        return shlex.join(self.command) if self.command else None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cause": self.cause,
            "count": self.count,
            "sites": dict(self.sites.most_common()),
            "examples": self.examples,
            "exit_code": self.signature.exit_code,
            "lines": list(self.signature.lines),
            "example_lines": self.example_lines,
            "source": self.signature.source,
            "deterministic": self.deterministic,
            "advice": self.advice,
            "command": self.command_line,
            "overrides": self.overrides.as_json() if self.overrides else None,
        }


@dataclass
class FailureReport:
    selection: Selection
    clusters: list[Cluster]
    stats: ReadStats
    jobs: int = 0  # jobs of the selection, failed or not

    @property
    def failed(self) -> int:
        return sum(c.count for c in self.clusters)

    def as_json(self) -> dict[str, Any]:
        return {"projects": list(self.selection.projects), "jobs": self.jobs, "failed": self.failed,
                "clusters": [c.as_json() for c in self.clusters], "logs": self.stats.as_json()}  # fmt: skip

    def find(self, cluster_id: str) -> Cluster:
        found = next((c for c in self.clusters if c.id == cluster_id), None)
        if found is None:
            known = ", ".join(c.id for c in self.clusters) or "none: nothing failed"
            raise NotFound(f"no failure cluster {cluster_id} in this selection (clusters now: {known}; "
                           "gb2_project_analysis --failures lists them)")  # fmt: skip
        return found


def _slug(cause: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", cause.lower()).strip("-")


def _fatal(selection: Selection) -> list[dict[str, Any]]:
    return [*selection.conditions(), {"parameter": "Status", "operator": "in", "values": sorted(FATAL_STATES)}]


def failure_clusters(dx: DiracX, selection: Selection, *, user: str | None = None, cache: LogCache | None = None,
                     rows: list[dict[str, Any]] | None = None) -> FailureReport:  # fmt: skip
    """The failed jobs of ``selection`` in clusters, biggest first. ``user`` (the caller)
    gets runnable commands for a selection of their own jobs; ``rows`` may give the failed
    jobs' search rows already read."""
    if rows is None:
        rows = list(dx.iter_search(FAILED_PARAMETERS, _fatal(selection)))
    found, stats = digests(dx, rows, cache if cache is not None else LogCache(dx.base_url))
    clusters: dict[tuple[str, str], Cluster] = {}
    for row in sorted(rows, key=lambda r: int(r["JobID"])):
        cause, _ = classify(str(row["Status"]), str(row.get("MinorStatus") or ""), str(row.get("ApplicationStatus") or ""))
        digest: LogDigest | None = found.get(int(row["JobID"]))
        sig, raw = signature(row, digest)
        key = (cause, sig.key)
        cluster = clusters.get(key)
        if cluster is None:
            cluster = clusters[key] = Cluster(f"{_slug(cause)}-{sig.key[:6]}", cause, sig, example_lines=raw)
        cluster.job_ids.append(int(row["JobID"]))
        cluster.sites[str(row.get("Site") or "Unknown")] += 1
        if digest is not None and digest.cpu_time:
            cluster.cpu_time = max(cluster.cpu_time or 0, digest.cpu_time)
    ordered = sorted(clusters.values(), key=lambda c: (-c.count, c.id))
    sites = counts_by(dx, Selection(selection.owner, selection.projects, selection.job_ids), "Site") if ordered else {}
    report = FailureReport(selection, ordered, stats, sum(sum(v.values()) for v in sites.values()))
    for cluster in ordered:
        suggest(cluster, report, sites, user)
    return report


def _command_base(selection: Selection, user: str | None) -> list[str] | None:
    if user is None or selection.owner != user:
        return None  # the commands act on your own jobs
    if selection.projects:
        return ["-p", *selection.projects]
    if selection.job_ids:
        return ["-j", ",".join(map(str, selection.job_ids))]
    return None


def suggest(cluster: Cluster, report: FailureReport, sites: dict[str, dict[str, int]], user: str | None) -> None:
    """Fill in the cluster's advice, runnable command and retry overrides."""
    base = _command_base(report.selection, user)
    example = str(cluster.job_ids[0])
    reschedule = ["gb2_job_reschedule", *base, "--cluster", cluster.id] if base else None
    diagnose = ["gb2_diagnostic", "--failed_job", example]
    n = cluster.count
    jobs = f"{n} job{'s' if n != 1 else ''}"
    them, they = ("them", "they") if n != 1 else ("it", "it")
    where = ", ".join(f"{s} ({c})" for s, c in cluster.sites.most_common())
    if cluster.cause == "input data":
        input_sites = Counter[str]()
        for other in report.clusters:
            if other.cause == "input data":
                input_sites.update(other.sites)
        elsewhere = sum(c for s, c in input_sites.items() if s not in cluster.sites)
        others = sorted(set(sites) - set(cluster.sites) - {"ANY", "Unknown", "Multiple"})
        if elsewhere == 0 and (others or len(cluster.sites) == 1):
            banned = sorted(cluster.sites)
            cluster.overrides = Overrides(banned_sites=tuple(banned))
            cluster.advice = (f"{jobs} at {', '.join(banned)} could not read their input, 0 elsewhere: reschedule "
                              f"{them} with {'that site' if len(banned) == 1 else 'those sites'} "
                              "banned (the input needs a replica at another site: gb2_ds_list -lg)")  # fmt: skip
            cluster.command = [*reschedule, *cluster.overrides.as_args()] if reschedule else None
        else:
            cluster.advice = (f"{jobs} could not read their input at {where}: not one site's fault; the files may be "
                              "damaged or lost: check their replicas with gb2_ds_list -lg")  # fmt: skip
            cluster.command = diagnose
    elif cluster.cause == "CPU time":
        had = math.ceil((cluster.cpu_time or 0) / 60)
        if had:
            cluster.overrides = Overrides(cputime=min(max(2 * had, had + 1), 100_000))
            cluster.advice = (f"{jobs} needed more than the {had} min of CPU time {they} asked for: reschedule "
                              f"{them} with twice as much")  # fmt: skip
            cluster.command = [*reschedule, *cluster.overrides.as_args()] if reschedule else None
        else:
            cluster.advice = f"{jobs} needed more CPU time than {they} asked for: reschedule with a larger --cputime"
            cluster.command = diagnose
    elif cluster.cause == "analysis":
        every = " (every job of the selection)" if n == report.jobs else ""
        cluster.advice = (f"a deterministic error in the analysis{every}: {jobs} failed the same way at {where}; "
                          "fix the steering file (run it locally first) and submit a new project; rescheduling "
                          "runs the same code again, do not retry")  # fmt: skip
        cluster.command = diagnose
    elif cluster.cause == "scout failed":
        from gb2.jobs.states import failed_scout_of

        scout = failed_scout_of(str(cluster.example_lines[0] if cluster.example_lines else "")) or example
        cluster.advice = (f"{jobs} never ran: the project's scout job {scout} failed; read its log, fix the cause and "
                          "submit a new project")  # fmt: skip
        cluster.command = ["gb2_diagnostic", "--failed_job", str(scout)]
    elif cluster.cause == "too many reschedules":
        cluster.advice = f"{jobs} failed every time they ran: read the log, fix the cause, submit a new project"
        cluster.command = diagnose
    elif cluster.cause in ("lost worker", "killed", "grid transfer"):
        what = {"lost worker": f"the worker running {them} stopped answering (nothing points at your code)",
                "killed": f"{they} {'were' if n != 1 else 'was'} killed (by you or an administrator)",
                "grid transfer": "a transfer of the job's files failed"}[cluster.cause]  # fmt: skip
        cluster.advice = f"{jobs} at {where}: {what}: reschedule {them}"
        cluster.command = reschedule or diagnose
    else:
        cluster.advice = f"{jobs} at {where} failed for a reason gb2 does not recognise: read the log"
        cluster.command = diagnose
