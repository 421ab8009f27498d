"""How many of a project's jobs were waiting, running, done or failed over time.

Rebuilt from each job's submission, start and end times (columns of the job
record, read with one paged search: ten requests for 100,000 jobs, never one per
job). A job waits from its submission until it starts (or ends without starting),
runs until it ends, and then counts as Done or Failed. A rescheduled job shows its
current attempt only: DIRAC clears the start and end times of the attempts before.
Deleted jobs are left out.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gb2.client.diracx import DiracX
from gb2.jobs.states import COMPLETED, DELETED, DONE, FAILED, FINAL_STATES, KILLED
from gb2.jobs.status import Selection

TIME_PARAMETERS = ["JobID", "Status", "SubmissionTime", "StartExecTime", "EndExecTime", "LastUpdateTime"]
CATEGORIES = ("Waiting", "Running", "Done", "Failed")
_ENDED_AS = {DONE: "Done", COMPLETED: "Done", FAILED: "Failed", KILLED: "Failed"}


@dataclass
class Timeline:
    """Counts per category at evenly spaced times (oldest first)."""

    times: list[datetime]
    counts: dict[str, list[int]]

    @property
    def empty(self) -> bool:
        return not self.times


def _time(text: Any) -> float | None:
    if not text:
        return None
    dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def build(rows: list[dict[str, Any]], *, points: int = 60, now: datetime | None = None) -> Timeline:
    """The timeline of job rows carrying :data:`TIME_PARAMETERS`."""
    submitted: list[float] = []
    left_waiting: list[float] = []
    started: list[float] = []
    left_running: list[float] = []
    ended: dict[str, list[float]] = {"Done": [], "Failed": []}
    for row in rows:
        status = row.get("Status")
        submit = _time(row.get("SubmissionTime"))
        if status == DELETED or submit is None:
            continue
        start = _time(row.get("StartExecTime"))
        end = None
        if status in FINAL_STATES:
            end = _time(row.get("EndExecTime")) or _time(row.get("LastUpdateTime"))
            end = max(end, submit) if end is not None else submit
        if start is not None:
            start = max(start, submit)
            if end is not None and start > end:
                start = end
        submitted.append(submit)
        if start is not None or end is not None:
            left_waiting.append(start if start is not None else end)  # type: ignore[arg-type]
        if start is not None:
            started.append(start)
            if end is not None:
                left_running.append(end)
        if end is not None:
            ended[_ENDED_AS.get(str(status), "Failed")].append(end)
    if not submitted:
        return Timeline([], {c: [] for c in CATEGORIES})
    for values in (submitted, left_waiting, started, left_running, *ended.values()):
        values.sort()
    first = submitted[0]
    final = [t for values in (left_waiting, left_running) for t in values[-1:]]
    last = (now or datetime.now(timezone.utc)).timestamp()
    if len(left_waiting) == len(submitted) and len(left_running) == len(started):  # every job has ended
        last = max([first, *final])
    span = max(last - first, 1.0)
    times = [first + span * i / (points - 1) for i in range(points)]

    def upto(values: list[float], t: float) -> int:
        return bisect_right(values, t)

    counts = {
        "Waiting": [upto(submitted, t) - upto(left_waiting, t) for t in times],
        "Running": [upto(started, t) - upto(left_running, t) for t in times],
        "Done": [upto(ended["Done"], t) for t in times],
        "Failed": [upto(ended["Failed"], t) for t in times],
    }
    return Timeline([datetime.fromtimestamp(t, timezone.utc) for t in times], counts)


def project_timeline(dx: DiracX, selection: Selection, *, points: int = 60) -> Timeline:
    """The timeline of a selection's jobs, from one paged search of their times."""
    return build(list(dx.iter_search(TIME_PARAMETERS, selection.conditions())), points=points)
