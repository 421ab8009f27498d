"""Thread pools for gb2's parallel calls (downloads, submission batches, listing pages),
built so that Ctrl-C ends a command at once.

``concurrent.futures``' own ``with ThreadPoolExecutor()`` waits, when the block is left by
an exception, for every call already running: a Ctrl-C during a download waited for the
files in flight, and one during a submission to an unreachable server for the batches'
retries (minutes). :func:`worker_pool` waits only when the block ends normally; after an
exception it cancels what has not started and returns at once. The calls still running
are given up: the command's entry point ends the process after a Ctrl-C without joining
them (:func:`exit_now`). Nothing is lost by that: downloads keep their bytes under a
partial name for the next run, and every other write of gb2's is atomic.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


@contextmanager
def worker_pool(max_workers: int) -> Iterator[ThreadPoolExecutor]:
    """A ``ThreadPoolExecutor`` that is waited for only when the block ends without an error."""
    pool = ThreadPoolExecutor(max_workers=max(1, max_workers))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def exit_now(code: int) -> None:
    """End the process with ``code`` without waiting for worker threads (after a Ctrl-C)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
