"""The printout of gb2_site_status: gbasf2-style plain tables of sites and storage elements."""

from __future__ import annotations

from gb2.jobs.health import GridHealth, percent
from gb2.ui.output import human_bytes, plain_table


def _state(banned: bool, reason: str | None, flags: list[str]) -> str:
    parts = [f"banned: {reason}"] if banned else []
    parts += [f"flagged: {flag}" for flag in flags]
    return "; ".join(parts) or "ok"


def print_health(health: GridHealth) -> None:
    print(f"Sites: jobs last updated in the last {health.hours:g} h (since {health.since} UTC), by their status now;"
          f" VO median failure rate {percent(health.median_failure_rate)}")  # fmt: skip
    rows = []
    for site in health.sites:
        j = site.as_json()
        rows.append((site.name, j["running"], j["waiting"], j["done"], j["failed"], percent(site.failure_rate),
                     _state(site.banned, site.ban_reason, site.flags)))  # fmt: skip
    if health.waiting_unmatched:
        rows.append(("(not matched yet)", 0, health.waiting_unmatched, 0, 0, "-", ""))
    if rows:
        plain_table(("Site", "Running", "Waiting", "Done", "Failed", "Failure rate", "Status"), rows)
    else:
        print("No site has jobs in the window.")
    if health.storage:
        print()
        print("Storage elements:")
        plain_table(("SE", "Used", "Capacity", "Fill", "Status"), [
            (se.name, human_bytes(se.used_bytes) if se.used_bytes is not None else "-",
             human_bytes(se.total_bytes) if se.total_bytes else "unknown",
             f"{se.fill * 100:.1f} %" if se.fill is not None else "-", _state(False, None, se.flags))
            for se in health.storage])  # fmt: skip
    for note in health.notes:
        print(f"Note: {note}")
