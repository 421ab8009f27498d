"""Scout reports, the forecast made from them, and automatic job sizing (``-n auto``).

A scout report is the ``gb2_usage.json`` a scout job leaves in its output sandbox
(:mod:`gb2.engine.basf2helper`): the events basf2 processed, its CPU and wall seconds,
its peak memory and the bytes it wrote, plus the plan figures of the project it
scouts. The output sandbox is the one place both the embedded grid and a real DiracX
0.7 let a client read what a job measured (DiracX 0.7 has no route to read job
parameters back), so the same report works on both.

Cost model: every figure is ``start-up + per event x events``. The scouts of a project
process different numbers of events (``N (k+1)/K`` for scout ``k`` of ``K``), so a
straight-line fit tells basf2's start-up time from its time per event; with one
scout, or when the fit makes no sense (a negative slope), everything is charged per
event, which over-estimates long jobs (the safe side for the CPU-time check).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

from gb2.ui.output import human_bytes

#: Warn when the longest job would use more than this share of its CPU-time limit.
CPU_LIMIT_SHARE = 0.8
#: A suggested or automatic CPU-time request is this much above the expected CPU time.
CPU_MARGIN = 1.5
#: Memory most grid sites give a single-core job (MB).
SLOT_MEMORY_MB = 2000.0
MIN_CPU_MINUTES = 10


@dataclass(frozen=True)
class PlanFigures:
    """What the forecast needs to know about the project being scouted."""

    jobs: int
    files: int
    events_total: int | None
    events_max_job: int | None
    events_per_file_max: int | None
    events_per_file_mean: float | None
    files_per_job: int | None  # None: -n auto, decided from the scouts
    cpu_limit_seconds: int
    output_lpn: str
    job_hours: float | None = None  # -n auto's target

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PlanFigures:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in doc.items() if k in names})


def basf2_event_limit(basf2opt: str) -> int | None:
    """The ``-n``/``--events`` limit a user's basf2 options set, if any."""
    try:
        tokens = shlex.split(basf2opt)
    except ValueError:
        return None
    for i, token in enumerate(tokens):
        value = None
        if token in ("-n", "--events") and i + 1 < len(tokens):
            value = tokens[i + 1]
        elif token.startswith("--events="):
            value = token.split("=", 1)[1]
        elif token.startswith("-n") and token[2:].isdigit():
            value = token[2:]
        if value is not None and value.isdigit() and int(value) > 0:
            return int(value)
    return None


def plan_figures(job_events: list[list[int | None]], *, cpu_limit_seconds: int, output_lpn: str,
                 files_per_job: int | None, basf2opt: str = "", job_hours: float | None = None) -> PlanFigures:  # fmt: skip
    """Figures of a plan from the events of each job's input files (``[]`` for an input-less job)."""
    limit = basf2_event_limit(basf2opt)
    files = [e for job in job_events for e in job]
    known = [e for e in files if e is not None]
    per_job: list[int] | None = []
    for job in job_events:
        if not job:  # input-less: the steering file (or basf2's -n) decides
            per_job = None if limit is None or per_job is None else [*per_job, limit]
        elif any(e is None for e in job) or per_job is None:
            per_job = None
        else:
            total = sum(e or 0 for e in job)
            per_job.append(min(total, limit) if limit else total)
    return PlanFigures(
        jobs=len(job_events),
        files=len(files),
        events_total=sum(per_job) if per_job else None,
        events_max_job=max(per_job) if per_job else None,
        events_per_file_max=max(known) if known and len(known) == len(files) else None,
        events_per_file_mean=(sum(known) / len(known)) if known and len(known) == len(files) else None,
        files_per_job=files_per_job,
        cpu_limit_seconds=cpu_limit_seconds,
        output_lpn=output_lpn,
        job_hours=job_hours,
    )


@dataclass(frozen=True)
class ScoutMeasurement:
    """One scout's report."""

    job_id: int | None
    site: str | None
    output_se: str | None
    success: bool
    events: int
    events_limit: int | None
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mb: float
    output_bytes: int

    @classmethod
    def from_usage(cls, doc: dict[str, Any]) -> ScoutMeasurement | None:
        """From a ``gb2_usage.json``; None if it does not say how many events were processed."""
        try:
            events = doc.get("events_processed")
            if events is None:
                return None
            return cls(
                job_id=int(doc["job_id"]) if doc.get("job_id") is not None else None,
                site=doc.get("site"),
                output_se=doc.get("output_se"),
                success=bool(doc.get("success")),
                events=int(events),
                events_limit=int(doc["events_limit"]) if doc.get("events_limit") else None,
                cpu_seconds=float(doc.get("cpu_seconds") or 0.0),
                wall_seconds=float(doc.get("wall_seconds") or 0.0),
                peak_rss_mb=float(doc.get("peak_rss_mb") or 0.0),
                output_bytes=int(doc.get("output_bytes") or 0),
            )
        except (TypeError, ValueError, KeyError):
            return None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Cost:
    """``fixed + per_event x events``."""

    fixed: float
    per_event: float

    def at(self, events: float) -> float:
        return self.fixed + self.per_event * events


def fit(points: list[tuple[int, float]]) -> Cost:
    """Least-squares line through ``(events, value)``; everything per event when a line cannot be trusted."""
    points = [(e, v) for e, v in points if e > 0]
    if not points:
        return Cost(0.0, 0.0)
    total_events = sum(e for e, _ in points)
    proportional = Cost(0.0, sum(v for _, v in points) / total_events)
    if len({e for e, _ in points}) < 2:
        return proportional
    n = len(points)
    mean_e = total_events / n
    mean_v = sum(v for _, v in points) / n
    slope = sum((e - mean_e) * (v - mean_v) for e, v in points) / sum((e - mean_e) ** 2 for e, _ in points)
    intercept = mean_v - slope * mean_e
    if slope <= 0 or intercept < 0:
        return proportional
    return Cost(intercept, slope)


@dataclass
class ScoutReport:
    """What the scouts measured, per event and per job start."""

    scouts: list[ScoutMeasurement]
    cpu: Cost
    wall: Cost
    output: Cost
    peak_rss_mb: float

    @property
    def events(self) -> int:
        return sum(s.events for s in self.scouts)

    @property
    def events_per_second(self) -> float | None:
        """Throughput while processing (wall time per event, start-up left out when known)."""
        return 1.0 / self.wall.per_event if self.wall.per_event > 0 else None

    def as_json(self) -> dict[str, Any]:
        return {
            "scouts": [s.as_json() for s in self.scouts],
            "events": self.events,
            "events_per_second": _round(self.events_per_second),
            "cpu_seconds_per_event": _round(self.cpu.per_event, 6),
            "cpu_seconds_startup": _round(self.cpu.fixed),
            "wall_seconds_per_event": _round(self.wall.per_event, 6),
            "wall_seconds_startup": _round(self.wall.fixed),
            "output_bytes_per_event": _round(self.output.per_event, 1),
            "output_bytes_fixed": _round(self.output.fixed, 0),
            "peak_memory_mb": _round(self.peak_rss_mb, 1),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ScoutReport:
        scouts = [ScoutMeasurement(**s) for s in doc.get("scouts", [])]
        return cls(
            scouts,
            Cost(float(doc.get("cpu_seconds_startup") or 0), float(doc.get("cpu_seconds_per_event") or 0)),
            Cost(float(doc.get("wall_seconds_startup") or 0), float(doc.get("wall_seconds_per_event") or 0)),
            Cost(float(doc.get("output_bytes_fixed") or 0), float(doc.get("output_bytes_per_event") or 0)),
            float(doc.get("peak_memory_mb") or 0),
        )


def make_report(measurements: list[ScoutMeasurement]) -> ScoutReport | None:
    """The report of the successful scouts that processed events; None if there is none."""
    good = [m for m in measurements if m.success and m.events > 0]
    if not good:
        return None
    return ScoutReport(
        good,
        fit([(m.events, m.cpu_seconds) for m in good]),
        fit([(m.events, m.wall_seconds) for m in good]),
        fit([(m.events, float(m.output_bytes)) for m in good]),
        max(m.peak_rss_mb for m in good),
    )


@dataclass
class Forecast:
    """The project's cost as the scouts predict it."""

    jobs: int
    events_per_job_max: int | None
    cpu_hours: float | None
    output_bytes: int | None
    quota_remaining: dict[str, int | None]
    job_cpu_seconds_typical: float | None
    job_cpu_seconds_longest: float | None
    cpu_limit_seconds: int
    job_wall_seconds_typical: float | None
    job_wall_seconds_longest: float | None
    wall_hours_total: float | None
    suggested_files_per_job: int | None = None
    suggested_cputime_minutes: int | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def quota_ok(self) -> bool | None:
        known = [v for v in self.quota_remaining.values() if v is not None]
        if self.output_bytes is None or not known:
            return None
        return self.output_bytes <= min(known)

    @property
    def cpu_ok(self) -> bool | None:
        if self.job_cpu_seconds_longest is None:
            return None
        return self.job_cpu_seconds_longest <= CPU_LIMIT_SHARE * self.cpu_limit_seconds

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("cpu_hours", "wall_hours_total"):
            out[key] = _round(out[key], 6)
        for key in ("job_cpu_seconds_typical", "job_cpu_seconds_longest", "job_wall_seconds_typical",
                    "job_wall_seconds_longest"):  # fmt: skip
            out[key] = _round(out[key], 1)
        out["quota_ok"] = self.quota_ok
        out["cpu_ok"] = self.cpu_ok
        return out


def events_per_job(report: ScoutReport, plan: PlanFigures) -> tuple[float | None, int | None]:
    """(typical, longest) events per job: the plan's, else what input-less scouts processed
    when they stopped before their limit (the steering file's own number of events)."""
    if plan.events_max_job is not None and plan.events_total is not None and plan.jobs:
        return plan.events_total / plan.jobs, plan.events_max_job
    if plan.files:
        return None, None
    natural = [s.events for s in report.scouts if s.events_limit is None or s.events < s.events_limit]
    if not natural:
        return None, None
    return float(max(natural)), max(natural)


def make_forecast(report: ScoutReport, plan: PlanFigures, quota: dict[str, int | None]) -> Forecast:
    """CPU hours, output volume against the remaining quota, job length against the CPU-time
    limit (with a suggested -n), and wall time, for the whole project."""
    typical, longest = events_per_job(report, plan)
    jobs = plan.jobs
    f = Forecast(jobs=jobs, events_per_job_max=longest, cpu_hours=None, output_bytes=None, quota_remaining=quota,
                 job_cpu_seconds_typical=None, job_cpu_seconds_longest=None, cpu_limit_seconds=plan.cpu_limit_seconds,
                 job_wall_seconds_typical=None, job_wall_seconds_longest=None, wall_hours_total=None)  # fmt: skip
    if typical is None or longest is None:
        f.notes.append("events per job unknown (the scouts stopped at their --scout_events limit and the "
                       "input gives no event counts): only the rates per event are measured")  # fmt: skip
    else:
        events_total = typical * jobs
        f.cpu_hours = (jobs * report.cpu.fixed + report.cpu.per_event * events_total) / 3600
        f.output_bytes = round(jobs * report.output.fixed + report.output.per_event * events_total)
        f.job_cpu_seconds_typical = report.cpu.at(typical)
        f.job_cpu_seconds_longest = report.cpu.at(longest)
        f.job_wall_seconds_typical = report.wall.at(typical)
        f.job_wall_seconds_longest = report.wall.at(longest)
        f.wall_hours_total = (jobs * report.wall.fixed + report.wall.per_event * events_total) / 3600
        _check_cpu(f, report, plan)
    _check_quota(f)
    if report.peak_rss_mb > SLOT_MEMORY_MB:
        f.warnings.append(f"the scouts peaked at {report.peak_rss_mb:.0f} MB: sites with {SLOT_MEMORY_MB:.0f} MB "
                          "per job slot may kill these jobs")  # fmt: skip
    return f


def _check_cpu(f: Forecast, report: ScoutReport, plan: PlanFigures) -> None:
    longest = f.job_cpu_seconds_longest or 0.0
    limit = plan.cpu_limit_seconds
    if longest <= CPU_LIMIT_SHARE * limit:
        return
    killed = longest > limit
    head = (f"the longest job needs about {_minutes(longest)} of CPU time, "
            f"{'over' if killed else 'close to'} its limit of {_minutes(limit)}")  # fmt: skip
    per_file = plan.events_per_file_max
    if per_file and plan.files_per_job and plan.files_per_job > 1:
        fits = math.floor((CPU_LIMIT_SHARE * limit - report.cpu.fixed) / (report.cpu.per_event * per_file))
        if fits >= 1:
            f.suggested_files_per_job = min(fits, plan.files_per_job - 1)
            f.warnings.append(f"{head}: jobs {'would be killed' if killed else 'risk being killed'}; "
                              f"use -n {f.suggested_files_per_job} (or a larger --cputime)")  # fmt: skip
            return
    f.suggested_cputime_minutes = max(MIN_CPU_MINUTES, math.ceil(CPU_MARGIN * longest / 60))
    f.warnings.append(f"{head}: jobs {'would be killed' if killed else 'risk being killed'}; "
                      f"use --cputime {f.suggested_cputime_minutes}")  # fmt: skip


def _check_quota(f: Forecast) -> None:
    known = {rse: v for rse, v in f.quota_remaining.items() if v is not None}
    if f.output_bytes is None or not known:
        if f.quota_remaining and not known:
            f.notes.append(f"your quota at {', '.join(sorted(f.quota_remaining))} could not be read")
        return
    rse, left = min(known.items(), key=lambda kv: kv[1])
    if f.output_bytes > left:
        f.warnings.append(f"the outputs (about {human_bytes(f.output_bytes)}) would not fit in the {human_bytes(max(left, 0))} "
                          f"left of your quota at {rse}: free space (gb2_ds_rm) or ask for more")  # fmt: skip


@dataclass
class Sizing:
    """What ``-n auto`` chose, and why."""

    files_per_job: int
    cpu_minutes: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def auto_size(report: ScoutReport, file_events: list[int | None], job_hours: float,
              cpu_minutes: int | None) -> Sizing:  # fmt: skip
    """Files per job so a job lasts about ``job_hours`` at the scouts' throughput (CRAB's Automatic
    splitting), kept under the CPU-time limit; the CPU time to ask for unless the user gave one."""
    from gb2.errors import BadInput

    known = [e for e in file_events if e is not None]
    if not known or len(known) != len(file_events):
        raise BadInput("-n auto needs the input files' event counts, which the catalogue does not give: use -n N")
    mean, biggest = sum(known) / len(known), max(known)
    if report.wall.per_event <= 0:
        raise BadInput("-n auto: the scouts measured no time per event: use -n N")
    target = job_hours * 3600
    n = max(1, math.floor((target - report.wall.fixed) / (report.wall.per_event * mean)))
    startup = f"after {report.wall.fixed:.1f} s of start-up" if report.wall.fixed > 0 else "start-up included"
    why = [f"the scouts ran {1 / report.wall.per_event:.1f} events/s ({startup}); files hold {mean:.0f} events "
           f"on average, so {job_hours:g} h per job is {n} file(s) per job"]  # fmt: skip
    if cpu_minutes is not None:
        fits = math.floor((CPU_LIMIT_SHARE * cpu_minutes * 60 - report.cpu.fixed) / (report.cpu.per_event * biggest))
        if fits < n:
            n = max(1, fits)
            why.append(f"lowered to {n} to stay under {CPU_LIMIT_SHARE:.0%} of --cputime {cpu_minutes}")
    n = min(n, len(file_events))
    expected = report.cpu.at(n * biggest)
    if cpu_minutes is None:
        cpu_minutes = max(MIN_CPU_MINUTES, math.ceil(CPU_MARGIN * expected / 60))
        why.append(f"CPU time asked per job: {cpu_minutes} min ({CPU_MARGIN:g}x the {_minutes(expected)} "
                   "the longest job should need)")  # fmt: skip
    return Sizing(n, cpu_minutes, "; ".join(why))


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def duration(seconds: float | None) -> str:
    return "unknown" if seconds is None else _minutes(seconds)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
