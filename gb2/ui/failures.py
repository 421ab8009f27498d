"""The printout of failure clusters (gb2_project_analysis --failures, gb2_diagnostic -p).

JSON keys (stable): ``{"projects", "jobs", "failed", "clusters": [{"id", "cause", "count",
"sites": {site: n}, "examples": [id], "exit_code", "lines", "example_lines", "source",
"deterministic", "advice", "command", "overrides"}], "logs": {"cached", "read", "missing",
"unreadable"}}``
"""

from __future__ import annotations

from typing import Any

from gb2.jobs.clusters import FailureReport


def failure_lines(report: FailureReport) -> list[str]:
    stats = report.stats
    if not report.clusters:
        return [f"No failed job among the {report.jobs} jobs selected."]
    n = len(report.clusters)
    lines = [f"{report.failed} failed jobs of {report.jobs} in {n} cluster{'s' if n != 1 else ''} "
             f"(logs: {stats.read} read now, {stats.cached} from the cache, {stats.missing} left none"
             + (f", {stats.unreadable} could not be read" if stats.unreadable else "") + ")"]  # fmt: skip
    for cluster in report.clusters:
        sites = ", ".join(f"{s} ({c})" for s, c in cluster.sites.most_common())
        kind = "deterministic" if cluster.deterministic else "worth retrying"
        lines += [
            "",
            f"{cluster.id}  {cluster.cause}: {cluster.count} job{'s' if cluster.count != 1 else ''} at {sites} [{kind}]",
            f"  examples  : {', '.join(map(str, cluster.examples))}",
            f"  exit code : {cluster.signature.exit_code if cluster.signature.exit_code is not None else 'none'}",
        ]
        for i, line in enumerate(cluster.signature.lines or ("(no log line)",)):
            lines.append(f"  {'log lines' if i == 0 and cluster.signature.source != 'records' else 'records' if i == 0 else '':<10}: {line}")
        lines.append(f"  what to do: {cluster.advice}")
        if cluster.command_line:
            lines.append(f"  command   : {cluster.command_line}")
    return lines


def print_failures(report: FailureReport) -> None:
    for line in failure_lines(report):
        print(line)


def failures_json(report: FailureReport) -> dict[str, Any]:
    return report.as_json()
