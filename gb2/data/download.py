"""What ``gb2_ds_get`` does: find the files, skip the verified ones, fetch the rest in parallel.

* Files land in ``<destination>/<dataset>/<subXX>/`` (gbasf2's layout).
* Only the newest reschedule generation of a job's output is fetched; older ones
  are reported (gbasf2's "duplicated jobID" list).
* A file already present is kept only if its size and adler32 match the catalogue.
* Each file streams into a partial name with adler32 computed on the way, resumes
  with a byte range after an interruption, and gets its final name only once
  verified; a failed replica is retried, then another storage element is tried.
* Transfers run in parallel, with a cap per storage element so that no site is
  hammered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gb2.client.http import log_retry, retry_settings
from gb2.client.rucio import FileReplicas, RucioClient
from gb2.data.datasets import local_relpath, resolve_files, targets
from gb2.data.lfn import name_problem
from gb2.data.transfer import ChecksumMismatch, fetch, local_path, verify
from gb2.errors import Gb2Error, LocalWriteFailed, UnsafePath
from gb2.fileio import write_atomic
from gb2.jobs.naming import newest_generations
from gb2.paths import path_inside

HTTP_SCHEMES = ("https://", "http://", "davs://")


@dataclass
class Item:
    lfn: str
    target: Path
    bytes: int | None
    adler32: str | None
    pfns: dict[str, list[str]]


@dataclass
class DownloadPlan:
    items: list[Item]
    superseded: list[str]
    destination: Path
    failed: dict[str, str] = field(default_factory=dict)  # known failures before any transfer

    @property
    def total_bytes(self) -> int:
        return sum(item.bytes or 0 for item in self.items)


@dataclass
class Outcome:
    downloaded: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)  # already present and verified
    failed: dict[str, str] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "downloaded": sorted(self.downloaded),
            "already_present": sorted(self.verified),
            "failed": [{"lfn": lfn, "reason": reason} for lfn, reason in sorted(self.failed.items())],
            "superseded": sorted(self.superseded),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


def plan_download(
    rucio: RucioClient,
    args: list[str],
    user: str,
    destination: Path,
    *,
    only: set[str] | None = None,
    se: str | None = None,
) -> DownloadPlan:
    names: list[str] = []
    for arg in args:
        names.extend(targets(rucio, arg, user))
    files = {f.name: f for f in resolve_files(rucio, names)}
    failed: dict[str, str] = {}
    if only is not None:
        for lfn in sorted(only - set(files)):
            failed[lfn] = "not part of the requested datasets"
        files = {name: f for name, f in files.items() if name in only}
    keep, superseded = newest_generations(files)
    items = []
    for lfn in keep:
        f: FileReplicas = files[lfn]
        pfns = f.pfns
        if se is not None:
            if se not in pfns:
                failed[lfn] = f"no replica at {se}"
                continue
            pfns = {se: pfns[se]}
        if not pfns:
            failed[lfn] = "no available replica"
            continue
        problem = name_problem(lfn)
        if problem:
            failed[lfn] = f"refused: not a canonical LFN ({problem})"
            continue
        try:
            target = path_inside(destination, local_relpath(lfn))
        except UnsafePath as exc:
            failed[lfn] = f"refused: {exc}"
            continue
        items.append(Item(lfn, target, f.bytes, f.adler32, pfns))
    return DownloadPlan(items, superseded, destination, failed)


def _candidates(item: Item) -> list[tuple[str, str]]:
    """(SE, PFN) to try in order: HTTP replicas first, then local files."""
    out = []
    for rse, pfns in item.pfns.items():
        out.extend((rse, p) for p in pfns if p.startswith(HTTP_SCHEMES))
    for rse, pfns in item.pfns.items():
        out.extend((rse, p) for p in pfns if local_path(p) is not None)
    return out


class Downloader:
    def __init__(
        self,
        headers: Callable[[], dict[str, str]],
        *,
        parallel: int = 8,
        per_se: int = 4,
        attempts: int | None = None,
        progress: Callable[[int], None] | None = None,
        on_file: Callable[[str, str], None] | None = None,
    ) -> None:
        self.headers = headers
        self.parallel = max(1, parallel)
        self.per_se = max(1, per_se)
        #: Tries per replica (default: the shared retry budget's attempts, GB2_RETRIES).
        self.attempts = max(1, attempts if attempts is not None else retry_settings()[0])
        self.progress = progress
        self.on_file = on_file
        self._se_slots: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def _slot(self, rse: str) -> threading.Semaphore:
        with self._lock:
            return self._se_slots.setdefault(rse, threading.Semaphore(self.per_se))

    def present(self, item: Item) -> bool:
        """A file already at its final name counts only if it matches the catalogue."""
        if not item.target.is_file():
            return False
        try:
            verify(item.target, item.bytes, item.adler32)
            return True
        except ChecksumMismatch:
            item.target.unlink()  # wrong content under the final name: fetch again
            return False

    def fetch_one(self, item: Item) -> tuple[str, str | None]:
        """(kind, error): kind is downloaded, verified or failed; a local error fails only this file."""
        try:
            return self._fetch_one(item)
        except OSError as exc:
            return "failed", f"cannot write {item.target}: {exc.strerror or exc}"

    def _fetch_one(self, item: Item) -> tuple[str, str | None]:
        if self.present(item):
            return "verified", None
        errors = []
        for rse, pfn in _candidates(item):
            for attempt in range(self.attempts):
                try:
                    with self._slot(rse):
                        fetch(pfn, item.target, size=item.bytes, adler32=item.adler32,
                              headers=self.headers() if pfn.startswith(HTTP_SCHEMES) else None,
                              progress=self.progress)  # fmt: skip
                    return "downloaded", None
                except LocalWriteFailed as exc:
                    return "failed", str(exc)  # another replica would not help
                except Gb2Error as exc:
                    errors.append(f"{rse}: {exc}")
                    if attempt + 1 < self.attempts:
                        wait = 0.2 * (attempt + 1)
                        log_retry(f"download of {item.lfn} from {rse}", attempt + 1, self.attempts, wait, exc)
                        time.sleep(wait)
        return "failed", errors[-1] if errors else "no usable replica"

    def run(self, plan: DownloadPlan) -> Outcome:
        outcome = Outcome(failed=dict(plan.failed), superseded=list(plan.superseded))
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            for item, (kind, error) in zip(plan.items, pool.map(self.fetch_one, plan.items), strict=True):
                if kind == "downloaded":
                    outcome.downloaded.append(item.lfn)
                    outcome.bytes += item.bytes or 0
                elif kind == "verified":
                    outcome.verified.append(item.lfn)
                else:
                    outcome.failed[item.lfn] = error or "failed"
                if self.on_file:
                    self.on_file(item.lfn, kind)
        outcome.seconds = time.monotonic() - started
        return outcome


def write_list(path: Path, lfns: list[str]) -> None:
    """``--failed_lfns``: one LFN per line (the ``--input_dslist`` format), written atomically.

    Control characters in a (refused) name are escaped so that one name stays one line.
    """
    write_atomic(path, "".join(f"{lfn.encode('unicode_escape').decode()}\n" for lfn in sorted(lfns)))
