"""Shared by the benchmarks: a child process's wall time and peak memory, and this process's."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path


def run_measured(argv: list[str], env: Mapping[str, str] | None = None, *, stdout: Path | None = None,
                 check: bool = False) -> tuple[float, int]:  # fmt: skip
    """Run ``argv`` to its end: (wall seconds, the child's peak RSS in kB). Output goes to
    ``stdout`` (a file) or nowhere; ``check``: a non-zero exit is an error."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=dict(env) if env is not None else None, stdout=out,
                                stderr=subprocess.PIPE if check else subprocess.DEVNULL)  # fmt: skip
        err = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed ({proc.returncode}): {err.decode(errors='replace').strip()}")
    return elapsed, usage.ru_maxrss


def own_peak_rss_mb() -> float:
    """This process's peak RSS so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
