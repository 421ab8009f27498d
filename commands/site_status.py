"""gb2_site_status: sites and storage elements, with their health flags."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_site_status",
    context_settings=CONTEXT,
    help="""List the sites with their running, waiting, done and failed jobs over a
time window, their failure rate and whether they are banned or flagged; and the
storage elements with how full they are. A gb2 tool, after the issue detector
gbasf2's operators use.

Counts come from one server-side summary of the jobs last updated in the
window (those visible to you: the whole VO where the grid allows it), by
their status now. A site is banned by the grid's site mask; gb2 flags a site
that ended at least 5 jobs in the window with a failure rate at least the VO's
median plus 25 points and at least twice it, and a storage element over 95 %
full or unavailable for reading or writing (README: "Site and storage
health"). gbasf2 leaves flagged sites out of its plan (--use_flagged_sites
keeps them).

\b
--json  {"window_hours", "since", "median_failure_rate", "sites": [{"site",
         "running", "waiting", "done", "failed", "ended", "failure_rate",
         "banned", "ban_reason", "flagged", "flags", "counts"}],
         "waiting_unmatched", "storage_elements": [{"se", "used_bytes",
         "total_bytes", "fill", "readable", "writable", "flagged",
         "flags"}], "notes"}
Exit code: 0, also when something is flagged (the flags are the answer).
""",
)
@click.option("--hours", type=click.FloatRange(0, 24 * 365, min_open=True), default=24.0, show_default=True,
              help="The window: jobs last updated in this many hours.")
@click.option("--no_storage", is_flag=True, help="Only the sites.")
@json_option
@common
def cli(hours: float, no_storage: bool, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.jobs.health import grid_health
    from gb2.session import Session
    from gb2.ui.output import print_json
    from gb2.ui.sites import print_health

    health = grid_health(Session.open(profile), hours, storage=not no_storage)
    if as_json:
        print_json(health.as_json())
    else:
        print_health(health)
    return 0
