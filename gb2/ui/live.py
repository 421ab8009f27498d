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

from gb2.client.diracx import DiracX
from gb2.jobs.states import FINAL_STATES
from gb2.jobs.status import Selection, summary_line_counts, wait_until_final


def _line(counts: dict[str, int]) -> str:
    keys = summary_line_counts(counts)
    return " ".join(f"{k}:{v}" for k, v in keys.items())


def wait_with_view(dx: DiracX, selection: Selection, *, interval: float, timeout: float | None, quiet: bool,
                   adjust: Callable[[dict[str, int]], dict[str, int]] | None = None) -> dict[str, int]:  # fmt: skip
    if quiet:
        return wait_until_final(dx, selection, interval=interval, timeout=timeout, adjust=adjust)
    if not sys.stderr.isatty():
        last: list[str] = []

        def log_line(counts: dict[str, int]) -> None:
            line = _line(counts)
            if not last or last[-1] != line:
                last.append(line)
                print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

        return wait_until_final(dx, selection, interval=interval, timeout=timeout, on_update=log_line, adjust=adjust)

    from rich.console import Group
    from rich.live import Live
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gb2.ui.output import console, rich_table

    progress = Progress(TextColumn("final"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    task = progress.add_task("jobs", total=None)

    def render(counts: dict[str, int]):  # type: ignore[no-untyped-def]
        total = sum(counts.values())
        done = sum(n for s, n in counts.items() if s in FINAL_STATES)
        progress.update(task, total=total or None, completed=done)
        table = rich_table(None, ["Status", "Jobs"], sorted(counts.items(), key=lambda kv: -kv[1]))
        return Group(table, progress)

    with Live(render({}), console=console(stderr=True), refresh_per_second=4, transient=False) as live:

        def update(counts: dict[str, int]) -> None:
            live.update(render(counts))

        counts = wait_until_final(dx, selection, interval=interval, timeout=timeout, on_update=update, adjust=adjust)
    return counts

