"""Fetching jobs' output sandboxes (logs): what gb2_job_output does.

gbasf2 puts a job's sandbox in ``./log/<jobid>/`` (``-j``) or
``./log/<project>/<jobid>/`` (``-p``). Each job's sandbox is unpacked into a
temporary folder beside its destination and renamed into place only when it is
complete, so a folder under its final name is always a whole sandbox. A job that
was rescheduled keeps one sandbox per attempt; the newest one is fetched.

DiracX has no bulk sandbox call, so this makes two requests per job (which
sandbox, then its presigned download), several jobs at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb2.client.diracx import DiracX
from gb2.errors import Gb2Error
from gb2.fileio import reason
from gb2.jobs.sandbox import extract_archive
from gb2.jobs.states import FINAL_STATES
from gb2.workers import worker_pool

SANDBOX_SE = "SB:SandboxSE|"
PARALLEL = 8
#: A job's logs, the most telling first: the basf2 helper's log, then standard error and output.
LOG_FILES = ("Script1_basf2helper.py.log", "std.err", "std.out")
TAIL_LINES = 15


@dataclass
class OutputOutcome:
    fetched: dict[int, Path] = field(default_factory=dict)  # job id -> folder
    missing: dict[int, str] = field(default_factory=dict)  # job id -> why there is none
    failed: dict[int, str] = field(default_factory=dict)  # job id -> error
    #: Jobs in ``missing`` that have not ended: no sandbox yet is expected, not a failure
    #: (b2luigi fetches a project's logs while some of its jobs still run).
    not_ended: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failed and set(self.missing) <= self.not_ended

    def as_json(self) -> dict[str, Any]:
        return {
            "downloaded": {str(j): str(p) for j, p in sorted(self.fetched.items())},
            "no_sandbox": {str(j): r for j, r in sorted(self.missing.items())},
            "failed": {str(j): r for j, r in sorted(self.failed.items())},
        }


def _place(tmp: Path, dest: Path) -> None:
    """Move a complete folder to its final name, replacing an older copy."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        dest.rename(old)
    tmp.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def place_sandbox(folder: Path, dest: Path) -> Path:
    """Move an unpacked sandbox to its final name (through a temporary sibling, so a folder
    under its final name is always whole), replacing an older copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.gb2part-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        shutil.move(str(folder), tmp)
        _place(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def fetch_one(dx: DiracX, job_id: int, dest: Path) -> Path | None:
    """The newest output sandbox of a job, unpacked into ``dest``; None if it has none."""
    pfns = dx.job_sandbox(job_id, "output")
    if not pfns:
        return None
    pfn = pfns[-1]
    data = dx.download_sandbox(pfn if pfn.startswith("SB:") else SANDBOX_SE + pfn)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.gb2part-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        extract_archive(data, tmp)
        _place(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def fetch_outputs(
    dx: DiracX,
    jobs: Iterable[tuple[int, str, str]],
    dest_of: Callable[[int, str], Path],
    *,
    parallel: int = PARALLEL,
    progress: Callable[[int], None] | None = None,
) -> OutputOutcome:
    """Fetch the sandboxes of ``(job id, status, project)`` into ``dest_of(job id, project)``."""
    outcome = OutputOutcome()

    def one(item: tuple[int, str, str]) -> None:
        job_id, status, project = item
        try:
            got = fetch_one(dx, job_id, dest_of(job_id, project))
        except Gb2Error as exc:
            outcome.failed[job_id] = str(exc)
        except OSError as exc:  # a full or read-only disk: the job fails, the folder is not placed
            outcome.failed[job_id] = f"cannot write its logs: {reason(exc)}"
        else:
            if got is None:
                outcome.missing[job_id] = f"no output sandbox (status {status})"
                if status not in FINAL_STATES:
                    outcome.not_ended.add(job_id)
            else:
                outcome.fetched[job_id] = got
        if progress:
            progress(1)

    with worker_pool(parallel) as pool:
        list(pool.map(one, jobs))
    return outcome


def newest_log_tail(dx: DiracX, job_id: int, lines: int = TAIL_LINES) -> tuple[str, list[str]] | None:
    """(file name, last lines) of the most telling non-empty log in the job's newest output
    sandbox; None if it has no sandbox or no log. Unpacked in a private temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="gb2-log-"))
    try:
        got = fetch_one(dx, int(job_id), folder / "sandbox")
        if got is None:
            return None
        for name in LOG_FILES:
            path = got / name
            if path.is_file() and path.stat().st_size:
                return name, path.read_text(errors="replace").splitlines()[-lines:]
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
