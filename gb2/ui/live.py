"""``--wait``: follow a selection of jobs until every one is final.

On a terminal a rich live view shows counts per status and a progress bar; in a
pipe or a CI log one line is printed each time the counts change. Counts come
from the server-side summary, so a 100,000-job project costs one small request
per refresh.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from gb2.client.diracx import DiracX
from gb2.jobs.states import FINAL_STATES
from gb2.jobs.status import Selection, summary_line_counts, wait_until_final

if TYPE_CHECKING:
    from gb2.jobs.autoretry import AutoRetry, Decision
    from gb2.jobs.notify import Notifier

#: Automatic-retry decisions the live view shows (the newest).
DECISIONS_SHOWN = 8


def _line(counts: dict[str, int]) -> str:
    keys = summary_line_counts(counts)
    return " ".join(f"{k}:{v}" for k, v in keys.items())


def wait_with_view(dx: DiracX, selection: Selection, *, interval: float, timeout: float | None, quiet: bool,
                   adjust: Callable[[dict[str, int]], dict[str, int]] | None = None,
                   auto: AutoRetry | None = None, notifier: Notifier | None = None) -> dict[str, int]:  # fmt: skip
    """Follow the jobs; ``adjust`` sees each count first (scouting), ``auto`` retries failures as
    they come (its decisions are shown), ``notifier`` is told the counts at each refresh."""

    def act(counts: dict[str, int]) -> bool:
        if notifier is not None:
            notifier.update(counts)
        return auto.step(counts) if auto is not None else False

    if quiet:
        return wait_until_final(dx, selection, interval=interval, timeout=timeout, adjust=adjust, act=act)
    if not sys.stderr.isatty():
        last: list[str] = []

        def log_line(counts: dict[str, int]) -> None:
            line = _line(counts)
            if not last or last[-1] != line:
                last.append(line)
                print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

        if auto is not None:
            auto.on_decision = lambda d: print(f"[{d.time}] {d.line()}", file=sys.stderr, flush=True)
        return wait_until_final(dx, selection, interval=interval, timeout=timeout, on_update=log_line, adjust=adjust,
                                act=act)  # fmt: skip

    from collections import deque

    from rich.console import Group
    from rich.live import Live
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from gb2.ui.output import console, rich_table

    progress = Progress(TextColumn("final"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    task = progress.add_task("jobs", total=None)

    recent: deque[str] = deque(maxlen=DECISIONS_SHOWN)

    def render(counts: dict[str, int]):  # type: ignore[no-untyped-def]
        total = sum(counts.values())
        done = sum(n for s, n in counts.items() if s in FINAL_STATES)
        progress.update(task, total=total or None, completed=done)
        table = rich_table(None, ["Status", "Jobs"], sorted(counts.items(), key=lambda kv: -kv[1]))
        return Group(table, progress, *(Text(line) for line in recent))

    shown: dict[str, int] = {}
    with Live(render({}), console=console(stderr=True), refresh_per_second=4, transient=False) as live:

        def update(counts: dict[str, int]) -> None:
            shown.clear()
            shown.update(counts)
            live.update(render(counts))

        if auto is not None:

            def decided(decision: Decision) -> None:
                recent.append(f"[{decision.time}] {decision.line()}")
                live.update(render(shown))

            auto.on_decision = decided
        counts = wait_until_final(dx, selection, interval=interval, timeout=timeout, on_update=update, adjust=adjust,
                                  act=act)  # fmt: skip
    return counts

