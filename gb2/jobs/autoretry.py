"""Automatic retries while waiting (``--wait --auto_reschedule N``), opt-in.

At each refresh of ``--wait``, failures not seen before are put in their clusters
(:mod:`gb2.jobs.clusters`, each log read once) and decided on:

* a deterministic cluster (an error in the analysis, too many reschedules) is not
  retried: it would fail the same way;
* a job already retried N times (its reschedules plus the replacements before it) is not
  retried again;
* the others are retried as their cluster suggests: with its overrides (a replacement
  with the site banned, or with more CPU time, :mod:`gb2.jobs.replace`), else with
  DIRAC's reschedule.

Retrying stops for good, saying why, when a quarter of the selection's jobs have failed
with one signature (something systematic), or when nothing has succeeded after
:data:`NOTHING_AFTER` failures. Every decision is kept (and shown by the live view and in
``--json``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gb2.jobs import control
from gb2.jobs.attempts import chain_position
from gb2.jobs.clusters import FAILED_PARAMETERS, Cluster, failure_clusters
from gb2.jobs.states import DELETED, DONE, FATAL_STATES
from gb2.jobs.status import Selection

#: Stop when this share of the selection's jobs failed with one signature.
SYSTEMATIC_SHARE = 0.25
#: Stop when this many failures came and not one job succeeded.
NOTHING_AFTER = 20


@dataclass
class Decision:
    job_id: int
    action: str  # "rescheduled", "replaced", "not retried", "stopped"
    cluster: str | None
    reason: str
    new_job_id: int | None = None
    time: str = field(default_factory=lambda: time.strftime("%H:%M:%S"))

    def as_json(self) -> dict[str, Any]:
        return {"time": self.time, "job_id": self.job_id, "action": self.action, "cluster": self.cluster,
                "reason": self.reason, "new_job_id": self.new_job_id}  # fmt: skip

    def line(self) -> str:
        if self.action == "stopped":
            return f"auto-reschedule stopped: {self.reason}"
        target = f" by job {self.new_job_id}" if self.new_job_id else ""
        return f"auto-reschedule: job {self.job_id} ({self.cluster}) {self.action}{target}: {self.reason}"


@dataclass
class AutoRetry:
    """The retry policy of one ``--wait``; :meth:`step` is called with each refresh's counts."""

    session: Any
    selection: Selection
    limit: int
    on_decision: Callable[[Decision], None] | None = None
    decisions: list[Decision] = field(default_factory=list)
    stopped: str | None = None
    _seen: set[tuple[int, int]] = field(default_factory=set)  # (job id, reschedule count) handled
    _by_signature: dict[str, set[str]] = field(default_factory=dict)  # signature -> the jobs (chains) it hit
    _failures: int = 0
    _last: dict[str, int] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "decisions": [d.as_json() for d in self.decisions], "stopped": self.stopped}

    def _decide(self, decision: Decision) -> None:
        self.decisions.append(decision)
        if self.on_decision is not None:
            self.on_decision(decision)

    def step(self, counts: dict[str, int]) -> bool:
        """Decide on the failures new since the last call; True if jobs were retried (the
        caller then looks again at once instead of ending the wait)."""
        if self.stopped is not None or counts == self._last or not any(counts.get(s) for s in FATAL_STATES):
            self._last = dict(counts)
            return False
        self._last = dict(counts)
        dx = self.session.diracx
        conditions = [*self.selection.conditions(), {"parameter": "Status", "operator": "in", "values": sorted(FATAL_STATES)}]
        rows = list(dx.iter_search(FAILED_PARAMETERS, conditions))
        new = {int(r["JobID"]): r for r in rows if (int(r["JobID"]), int(r.get("RescheduleCounter") or 0)) not in self._seen}
        if not new:
            return False
        report = failure_clusters(dx, self.selection, user=self.session.username, rows=rows)
        for cluster in report.clusters:
            hit = self._by_signature.setdefault(cluster.signature.key, set())
            for job_id in cluster.job_ids:
                if job_id in new:
                    self._failures += 1
                    hit.add(chain_position(str(new[job_id]["JobName"]))[0])
        for row in new.values():
            self._seen.add((int(row["JobID"]), int(row.get("RescheduleCounter") or 0)))
        jobs = sum(n for s, n in counts.items() if s != DELETED)
        self.stopped = self._stop_reason(report.clusters, jobs, counts.get(DONE, 0))
        if self.stopped is not None:
            self._decide(Decision(0, "stopped", None, self.stopped))
            return False
        retried = False
        for cluster in report.clusters:
            todo = []
            for job_id in (j for j in cluster.job_ids if j in new):
                row = new[job_id]
                tries = int(row.get("RescheduleCounter") or 0) + chain_position(str(row["JobName"]))[1]
                if cluster.deterministic:
                    self._decide(Decision(job_id, "not retried", cluster.id, f"deterministic ({cluster.cause}): "
                                          "it would fail the same way"))  # fmt: skip
                elif tries >= self.limit:
                    self._decide(Decision(job_id, "not retried", cluster.id,
                                          f"retried {tries} time(s) already (--auto_reschedule {self.limit})"))  # fmt: skip
                else:
                    todo.append(row)
            if todo:
                self._retry(cluster, todo)
                retried = True
        return retried

    def _stop_reason(self, clusters: list[Cluster], jobs: int, done: int) -> str | None:
        for cluster in clusters:
            hit = len(self._by_signature.get(cluster.signature.key, ()))
            if jobs and hit >= SYSTEMATIC_SHARE * jobs:
                return (f"{hit} of the {jobs} jobs (a quarter or more) failed with one signature, cluster {cluster.id} "
                        f"({cluster.cause}): something systematic (gb2_project_analysis --failures says what to do)")  # fmt: skip
        if done == 0 and self._failures >= NOTHING_AFTER:
            return f"nothing has succeeded after {self._failures} failures: look at the failures before retrying more"
        return None

    def _retry(self, cluster: Cluster, rows: list[dict[str, Any]]) -> None:
        dx = self.session.diracx
        if cluster.overrides:
            from gb2.jobs.replace import replace_jobs

            options = " ".join(cluster.overrides.as_args())
            outcome = replace_jobs(dx, rows, cluster.overrides)
            for old, new in sorted(outcome.replaced.items()):
                self._decide(Decision(old, "replaced", cluster.id, f"{cluster.cause}: with {options}", new))
            for old, why in sorted(outcome.failed.items()):
                self._decide(Decision(old, "not retried", cluster.id, f"could not be replaced: {why}"))
            return
        ids = sorted(int(r["JobID"]) for r in rows)
        plan = control.Plan(control.RESCHEDULE, ids, {int(r["JobID"]): str(r["Status"]) for r in rows})
        outcome = control.execute(dx, plan)
        for job_id in outcome.done:
            self._decide(Decision(job_id, "rescheduled", cluster.id, f"{cluster.cause}: run again as it was"))
        for job_id, why in sorted(outcome.failed.items()):
            self._decide(Decision(job_id, "not retried", cluster.id, f"the reschedule was refused: {why}"))
