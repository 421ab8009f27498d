"""What transfer commands show: a byte progress bar on a terminal, and the report of an
upload or copy (the files sent, those already there, those that failed, the verdict)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def transfer_progress(total_bytes: int, files: int, *, quiet: bool,
                      label: str = "downloading") -> tuple[Callable[[int], None] | None, Callable[[], None]]:  # fmt: skip
    """(advance by n bytes, stop): a rich bar with bytes and rate on stderr; nothing when
    ``quiet``, not on a terminal, or with nothing to move."""
    if quiet or not sys.stderr.isatty() or not files:
        return None, lambda: None
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from gb2.ui.output import console

    bar = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn(), console=console(stderr=True), transient=True)  # fmt: skip
    task = bar.add_task("files", total=total_bytes or None)
    bar.start()
    return (lambda n: bar.advance(task, n)), bar.stop


def transfer_report(verb: str, noun: str, outcome: Any) -> None:
    """``<verb> files:`` with the LFNs, then the skipped and failed ones and a one-line verdict
    (``outcome``: :class:`gb2.data.upload.UploadOutcome`)."""
    from gb2.ui.output import human_bytes

    sections = ((f"{verb} files:", sorted(outcome.uploaded)),
                ("Already registered with the same content (skipped):", sorted(outcome.present)),
                ("Failed files:", [f"{lfn}: {reason}" for lfn, reason in sorted(outcome.failed.items())]))
    for title, lines in sections:
        if lines:
            print(title)
            for line in lines:
                print(f"  {line}")
    rate = outcome.bytes / outcome.seconds / 1e6 if outcome.seconds > 0 else 0.0
    verdict = (f"{noun} complete: every file is registered and verified" if outcome.ok
               else f"{noun} INCOMPLETE: {len(outcome.failed)} file(s) failed")
    print(f"{len(outcome.uploaded)} {verb.lower()} ({human_bytes(outcome.bytes)}, {rate:.1f} MB/s), "
          f"{len(outcome.present)} already present, {len(outcome.failed)} failed: {verdict}")


#: (noun, past participle, progress label) of each way of putting files.
VERBS = {"upload": ("upload", "Uploaded", "uploading"), "copy": ("copy", "Copied", "copying")}


def run_put(session: Any, plan: Any, se: str | None, *, what: str, headline: str, force: bool, parallel: int,
            as_json: bool) -> int:
    """The part gb2_ds_put and gb2_ds_cp share once their plan is made: choose and check the
    storage element and the quota, ask, send with a progress bar, report; the exit code."""
    from gb2.data.upload import Uploader, check_quota, default_headers, destination_se
    from gb2.errors import ExitCode
    from gb2.ui.output import human_bytes, print_json
    from gb2.ui.prompts import confirm

    noun, done, label = VERBS[what]
    plan.se = destination_se(session, se)
    new_bytes = sum(i.bytes for i in plan.items if i.lfn not in plan.registered)
    check_quota(session.rucio, plan.se, new_bytes)
    if not as_json:
        print(f"{headline.format(files=len(plan.items), size=human_bytes(plan.total_bytes))} to {plan.lpn} on {plan.se}")
    if not confirm(f"Do you want to {noun} these files?", force=force, what=noun):
        print(f"{noun.capitalize()} cancelled.")
        return ExitCode.FAILED
    progress, stop = transfer_progress(new_bytes, len(plan.items), quiet=as_json, label=label)
    try:
        uploader = Uploader(session.rucio, default_headers(session), parallel=parallel, progress=progress,
                            comment=f"gb2_ds_{'put' if what == 'upload' else 'cp'}")  # fmt: skip
        outcome = uploader.run(plan)
    finally:
        stop()
    if as_json:
        print_json(outcome.as_json())
    else:
        transfer_report(done, noun, outcome)
    return ExitCode.OK if outcome.ok else ExitCode.FAILED
