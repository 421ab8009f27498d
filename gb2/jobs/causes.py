"""A selection's failed jobs grouped by the cause their records point at.

Each Failed, Killed or Stalled job is classified from its status, minor status and
application status with :func:`gb2.jobs.diagnosis.classify` (what gb2_diagnostic
--failed_job says for one job). The groups come from one server-side summary
(Status, MinorStatus, ApplicationStatus, Site); only the example job ids of each
group take a small search. Grouping by the content of the logs is not done here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gb2.client.diracx import DiracX
from gb2.jobs.diagnosis import classify
from gb2.jobs.states import FATAL_STATES
from gb2.jobs.status import Selection

#: Causes whose jobs would fail the same way again: rescheduling is not suggested.
NOT_WORTH_RETRYING = frozenset({"analysis", "too many reschedules"})
_FIELDS = ["Status", "MinorStatus", "ApplicationStatus"]


@dataclass
class CauseGroup:
    cause: str
    advice: str
    count: int = 0
    sites: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # "Status: MinorStatus"
    keys: set[tuple[str, str, str]] = field(default_factory=set)  # (Status, MinorStatus, ApplicationStatus)
    examples: list[int] = field(default_factory=list)

    @property
    def id(self) -> str:
        """A stable name for links: the cause in lower case, words joined by dashes."""
        return re.sub(r"[^a-z0-9]+", "-", self.cause.lower()).strip("-")

    @property
    def worth_retrying(self) -> bool:
        return self.cause not in NOT_WORTH_RETRYING


def _fatal(selection: Selection) -> list[dict[str, Any]]:
    return [*selection.conditions(), {"parameter": "Status", "operator": "in", "values": sorted(FATAL_STATES)}]


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (str(row.get("Status") or ""), str(row.get("MinorStatus") or ""), str(row.get("ApplicationStatus") or ""))


def cause_groups(dx: DiracX, selection: Selection, *, examples: int = 2) -> list[CauseGroup]:
    """The groups, biggest first, each with up to ``examples`` job ids."""
    groups: dict[str, CauseGroup] = {}
    for row in dx.summary([*_FIELDS, "Site"], _fatal(selection)):
        key = _key(row)
        cause, advice = classify(*key)
        group = groups.setdefault(cause, CauseGroup(cause, advice))
        n = int(row["count"])
        group.count += n
        group.sites[str(row.get("Site") or "Unknown")] += n
        group.reasons[f"{key[0]}: {key[1]}" if key[1] else key[0]] += n
        group.keys.add(key)
    if examples:
        for group in groups.values():
            group.examples = group_job_ids(dx, selection, group, limit=examples)
    return sorted(groups.values(), key=lambda g: (-g.count, g.cause))


def group_job_ids(dx: DiracX, selection: Selection, group: CauseGroup, *, limit: int | None = None) -> list[int]:
    """The ids of a group's jobs (paged searches narrowed to its statuses and minor statuses)."""
    conditions = [*selection.conditions(),
                  {"parameter": "Status", "operator": "in", "values": sorted({k[0] for k in group.keys})},
                  {"parameter": "MinorStatus", "operator": "in", "values": sorted({k[1] for k in group.keys})}]  # fmt: skip
    found: list[int] = []
    if limit is not None:
        # The statuses and minor statuses may also match other groups' jobs: read a few more.
        rows = dx.search(["JobID", *_FIELDS], conditions, [{"parameter": "JobID", "direction": "asc"}],
                         per_page=max(limit * 10, 20)).rows  # fmt: skip
    else:
        rows = list(dx.iter_search(["JobID", *_FIELDS], conditions))
    for row in rows:
        if _key(row) in group.keys:
            found.append(int(row["JobID"]))
            if limit is not None and len(found) >= limit:
                break
    return found


def find_group(dx: DiracX, selection: Selection, group_id: str) -> CauseGroup | None:
    return next((g for g in cause_groups(dx, selection, examples=0) if g.id == group_id), None)
