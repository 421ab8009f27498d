"""How a scouted project is shown: its scouts, their report and the forecast.

The same lines follow ``gb2_job_status -p P`` and ``gb2_project_summary -p P`` and are
printed by ``gbasf2 --scout_local`` before it asks; ``--json`` gives the same figures
(:meth:`gb2.jobs.scouts.ScoutView.as_json`).
"""

from __future__ import annotations

from gb2.jobs.forecast import Forecast, ScoutReport, Sizing, duration
from gb2.jobs.scouts import HELD, ScoutView
from gb2.ui.output import human_bytes


def report_lines(report: ScoutReport | None, forecast: Forecast | None, sizing: Sizing | None = None) -> list[str]:
    """The scout report and the forecast, one figure per line."""
    if report is None:
        return ["Scout report: no scout left a report (gb2_usage.json in its output sandbox)"]
    eps = report.events_per_second
    lines = [
        f"Scout report ({len(report.scouts)} scout(s), {report.events} events):",
        f"  events per second   {eps:.1f} {_startup(report.wall.fixed)}" if eps else "  events per second   unknown",
        f"  CPU time per event  {report.cpu.per_event * 1000:.2f} ms {_startup(report.cpu.fixed)}",
        f"  peak memory         {report.peak_rss_mb:.0f} MB",
        f"  output per event    {human_bytes(report.output.per_event)}",
    ]  # fmt: skip
    if forecast is None:
        return lines
    lines.append(f"Forecast for {forecast.jobs} job(s):")
    if forecast.cpu_hours is not None:
        lines.append(f"  CPU time            {duration(forecast.cpu_hours * 3600)} in all; the longest job "
                     f"{duration(forecast.job_cpu_seconds_longest)} of its {duration(forecast.cpu_limit_seconds)} limit")  # fmt: skip
    if forecast.output_bytes is not None:
        quota = "; ".join(f"{human_bytes(left) if left is not None else 'unknown'} left of your quota at {rse}"
                          for rse, left in sorted(forecast.quota_remaining.items())) or "quota unknown"  # fmt: skip
        lines.append(f"  output              {human_bytes(forecast.output_bytes)}; {quota}")
    if forecast.job_wall_seconds_longest is not None:
        lines.append(f"  wall time           each job about {duration(forecast.job_wall_seconds_typical)} (longest "
                     f"{duration(forecast.job_wall_seconds_longest)}); {duration((forecast.wall_hours_total or 0) * 3600)} "
                     "of job time in all")  # fmt: skip
    if sizing is not None:
        lines.append(f"  -n auto             {sizing.files_per_job} file(s) per job: {sizing.reason}")
    lines += [f"  note: {note}" for note in forecast.notes]
    lines += [f"Warning: {warning}" for warning in forecast.warnings]
    return lines


def _startup(seconds: float) -> str:
    return f"(start-up {seconds:.1f} s apart)" if seconds > 0 else "(start-up included)"


def view_lines(view: ScoutView) -> list[str]:
    """The scouts of one project, what became of the other jobs, then the report and forecast."""
    scouts = ", ".join(f"{s['JobID']} {s['Status']}" for s in view.scouts)
    lines = [f"--- Scout jobs of {view.project} ---", f"Scouts: {scouts}"]
    held = view.held
    if view.state == "scouting":
        if view.mode == HELD:
            count = f"{held} job(s) are" if held is not None else "the other jobs are"
            lines.append(f"{count} held by gb2 until the scouts pass (not submitted yet; Scouting)")
        else:
            lines.append(f"{view.scouting_primaries} job(s) wait in status Scouting until the scouts pass")
    elif view.state == "failed" and view.failed_scout:
        f = view.failed_scout
        gone = (f"{held} job(s) held by gb2 were never submitted" if view.mode == HELD and held
                else "the other jobs never run (Failed, minor status 'Scout job "
                     f"{f['job_id']} failed')")  # fmt: skip
        lines.append(f"Scout job {f['job_id']} {f['status']}: {f['minor_status']}; {f['application_status']}")
        lines.append(f"{gone}. Its log: gb2_job_output -j {f['job_id']} (why: gb2_diagnostic --failed_job {f['job_id']})")
    elif view.state == "released":
        released = f" ({view.released_now} submitted now)" if view.released_now else ""
        lines.append(f"The scouts passed: the other jobs are released{released}")
    lines += [f"note: {note}" for note in view.notes]
    if view.state != "scouting":
        lines += report_lines(view.report, view.forecast, view.sizing)
    return lines
