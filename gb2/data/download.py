"""What ``gb2_ds_get`` does: find the files, skip the verified ones, fetch the rest in parallel.

* Files land in ``<destination>/<dataset>/<subXX>/`` (gbasf2's layout).
* Only the newest reschedule generation of a job's output is fetched; older ones
  are reported (gbasf2's "duplicated jobID" list).
* A file already present is kept only if its size and adler32 match the catalogue;
  one that the dataset's manifest (:mod:`gb2.data.manifest`) recorded as verified
  and that is unchanged on disk is trusted without hashing it again or asking the
  catalogue for its replicas.
* Replicas are tried closest first (:mod:`gb2.data.replica_order`); storage
  elements flagged down are skipped.
* Each file streams into a partial name with adler32 computed on the way, resumes
  with a byte range after an interruption, and gets its final name only once
  verified; a failed replica is retried, then the next closest storage element.
* Transfers run in parallel, with a cap per storage element so that no site is
  hammered. The manifest is updated at the end, also after an interruption.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gb2.client.http import log_retry, retry_settings
from gb2.client.rucio import RucioClient
from gb2.data.datasets import is_glob, local_relpath, targets, to_lpn
from gb2.data.lfn import Did, name_problem
from gb2.data.manifest import Manifest, entry_for, has_manifests
from gb2.data.replica_order import ReplicaOrder
from gb2.data.transfer import ChecksumMismatch, fetch, local_path, verify
from gb2.errors import Gb2Error, LocalWriteFailed, NotFound, UnsafePath
from gb2.fileio import write_atomic
from gb2.jobs.naming import newest_generations
from gb2.paths import Inside
from gb2.workers import worker_pool

HTTP_SCHEMES = ("https://", "http://", "davs://")


@dataclass
class Item:
    lfn: str
    target: Path
    bytes: int | None
    adler32: str | None
    pfns: dict[str, list[str]]  # closest storage element first
    folder: Path | None = None  # the dataset folder whose manifest records the file
    trusted: bool = False  # verified before and unchanged since (the manifest says so)

    @property
    def relpath(self) -> str:
        return self.target.relative_to(self.folder).as_posix() if self.folder else self.target.name


@dataclass
class DownloadPlan:
    items: list[Item]
    superseded: list[str]
    destination: Path
    failed: dict[str, str] = field(default_factory=dict)  # known failures before any transfer
    failed_items: dict[str, Item] = field(default_factory=dict)  # of those, the ones with a local place

    @property
    def total_bytes(self) -> int:
        return sum(item.bytes or 0 for item in self.items)

    @property
    def to_fetch(self) -> list[Item]:
        return [item for item in self.items if not item.trusted]


@dataclass
class Outcome:
    downloaded: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)  # already present and verified
    failed: dict[str, str] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

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
    order: ReplicaOrder | None = None,
) -> DownloadPlan:
    """Which files to fetch from where, with as few catalogue calls as possible.

    Without manifests in ``destination`` (a first download) one streamed replica
    listing gives every file with its size, checksum and replicas. With them, the
    file listing comes first, and replicas are asked for only for the files the
    manifests do not vouch for. ``order`` ranks the storage elements that hold
    them, closest first (:meth:`gb2.session.Session.replica_order`).
    """
    names: list[str] = []
    for arg in args:
        try:
            names.extend(targets(rucio, arg, user))
        except NotFound:
            if not is_glob(to_lpn(arg, user)):
                raise  # a glob that matches nothing is "No file found", as in gbasf2
    names = list(dict.fromkeys(names))
    manifests: dict[Path, Manifest] = {}
    if has_manifests(destination):
        files = _file_listing(rucio, names)
    else:
        files = _replica_listing(rucio, [rucio.did(n) for n in names])
    failed: dict[str, str] = {}
    if only is not None:
        for lfn in sorted(only - set(files)):
            failed[lfn] = "not part of the requested datasets"
        files = {name: f for name, f in files.items() if name in only}
    keep, superseded = newest_generations(files)
    items: list[Item] = []
    failed_items: dict[str, Item] = {}
    inside = Inside(destination)
    for lfn in keep:
        f = files[lfn]
        problem = name_problem(lfn)
        if problem:
            failed[lfn] = f"refused: not a canonical LFN ({problem})"
            continue
        try:
            relpath = local_relpath(lfn)
            target = inside(relpath)
        except UnsafePath as exc:
            failed[lfn] = f"refused: {exc}"
            continue
        folder = destination / relpath.split("/", 1)[0]
        manifest = manifests.get(folder) or manifests.setdefault(folder, Manifest.load(folder))
        item = Item(lfn, target, f["bytes"], f["adler32"], f.get("pfns") or {}, folder)
        item.trusted = manifest.trusted(item.relpath, lfn, item.bytes, item.adler32, target)
        items.append(item)
    lookup = [item for item in items if not item.trusted and item.lfn in files and "pfns" not in files[item.lfn]]
    if lookup:
        found = _replica_listing(rucio, [Did(files[i.lfn]["scope"], i.lfn) for i in lookup])
        for item in lookup:
            item.pfns = found.get(item.lfn, {}).get("pfns") or {}
    ranking = order or ReplicaOrder()
    usable = []
    for item in items:
        if item.trusted:
            usable.append(item)
            continue
        pfns = {rse: item.pfns[rse] for rse in ranking.usable(item.pfns)}
        if se is not None:
            pfns = {se: pfns[se]} if se in pfns else {}
        item.pfns = pfns
        reason = (f"no replica at {se}" if se is not None else "no available replica") if not pfns else None
        if reason and not item.target.is_file():
            failed[item.lfn] = reason
            failed_items[item.lfn] = item
        else:
            usable.append(item)  # a file already here may still be verified without a replica
    return DownloadPlan(usable, superseded, destination, failed, failed_items)


def _file_listing(rucio: RucioClient, names: Iterable[str]) -> dict[str, dict]:
    """LFN -> {scope, bytes, adler32} of every file behind the names (no replicas)."""
    files: dict[str, dict] = {}
    for name in names:
        did = rucio.did(name)
        try:
            for f in rucio.list_files(did.scope, did.name):
                files.setdefault(f["name"], {"scope": f["scope"], "bytes": f.get("bytes"), "adler32": f.get("adler32")})
        except NotFound:
            raise NotFound(f"no such dataset or file: {name}") from None
    return files


def _replica_listing(rucio: RucioClient, dids: list[Did]) -> dict[str, dict]:
    """LFN -> {scope, bytes, adler32, pfns} from one streamed replica listing (batches of 1000 DIDs)."""
    files: dict[str, dict] = {}
    try:
        for record in rucio.list_replicas(dids):
            files.setdefault(record["name"], {
                "scope": record["scope"], "bytes": record.get("bytes"), "adler32": record.get("adler32"),
                "pfns": {rse: list(urls) for rse, urls in (record.get("rses") or {}).items()}})  # fmt: skip
    except NotFound:
        shown = dids[0].name if len(dids) == 1 else "one of " + ", ".join(d.name for d in dids[:3])
        raise NotFound(f"no such dataset or file: {shown}") from None
    return files


def _candidates(item: Item) -> list[tuple[str, str]]:
    """(SE, PFN) to try in order: storage elements closest first, each by HTTP, then as a local file."""
    out = []
    for rse, pfns in item.pfns.items():
        out.extend((rse, p) for p in pfns if p.startswith(HTTP_SCHEMES))
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
        self._existing: dict[Path, set[str]] = {}

    def _slot(self, rse: str) -> threading.Semaphore:
        with self._lock:
            return self._se_slots.setdefault(rse, threading.Semaphore(self.per_se))

    def present(self, item: Item) -> bool:
        """A file already at its final name counts only if it matches the catalogue
        (or the manifest vouches for it, unchanged since it was verified)."""
        if item.trusted:
            return True
        if item.target.name not in self._existing.get(item.target.parent, ()) or not item.target.is_file():
            return False
        try:
            verify(item.target, item.bytes, item.adler32)
            return True
        except ChecksumMismatch:
            item.target.unlink()  # wrong content under the final name: fetch again
            return False

    def fetch_one(self, item: Item) -> tuple[str, str | None, str | None]:
        """(kind, error, storage element): kind is downloaded, verified or failed; a local
        error fails only this file."""
        try:
            return self._fetch_one(item)
        except OSError as exc:
            return "failed", f"cannot write {item.target}: {exc.strerror or exc}", None

    def _fetch_one(self, item: Item) -> tuple[str, str | None, str | None]:
        if self.present(item):
            return "verified", None, None
        errors = []
        for rse, pfn in _candidates(item):
            for attempt in range(self.attempts):
                try:
                    with self._slot(rse):
                        fetch(pfn, item.target, size=item.bytes, adler32=item.adler32,
                              headers=self.headers() if pfn.startswith(HTTP_SCHEMES) else None,
                              progress=self.progress, make_dirs=False)  # fmt: skip
                    return "downloaded", None, rse
                except LocalWriteFailed as exc:
                    return "failed", str(exc), None  # another replica would not help
                except Gb2Error as exc:
                    errors.append(f"{rse}: {exc}")
                    if attempt + 1 < self.attempts:
                        wait = 0.2 * (attempt + 1)
                        log_retry(f"download of {item.lfn} from {rse}", attempt + 1, self.attempts, wait, exc)
                        time.sleep(wait)
        return "failed", errors[-1] if errors else "no usable replica", None

    def _prepare(self, items: list[Item]) -> None:
        """Each target folder made, and what is in it listed, once (not once per file)."""
        self._existing = {}
        for folder in {item.target.parent for item in items if not item.trusted}:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with os.scandir(folder) as entries:
                    self._existing[folder] = {e.name for e in entries}
            except OSError:
                continue  # each of its files fails on its own, with the reason

    def run(self, plan: DownloadPlan) -> Outcome:
        outcome = Outcome(failed=dict(plan.failed), superseded=list(plan.superseded))
        started = time.monotonic()
        record = ManifestUpdate(plan)
        self._prepare(plan.items)
        try:
            with worker_pool(self.parallel) as pool:
                for item, (kind, error, rse) in zip(plan.items, pool.map(self.fetch_one, plan.items), strict=True):
                    if kind == "downloaded":
                        outcome.downloaded.append(item.lfn)
                        outcome.bytes += item.bytes or 0
                    elif kind == "verified":
                        outcome.verified.append(item.lfn)
                    else:
                        outcome.failed[item.lfn] = error or "failed"
                    record.add(item, kind, error, rse)
                    if self.on_file:
                        self.on_file(item.lfn, kind)
        finally:
            try:
                record.save()  # also after Ctrl-C: what was verified stays recorded
            except LocalWriteFailed as exc:  # the files are fine; only the record of them is not
                outcome.warnings.append(f"{exc} (the next gb2_ds_get checks every file again)")
        outcome.seconds = time.monotonic() - started
        return outcome


class ManifestUpdate:
    """Collects a run's results into the manifests of the dataset folders it touched."""

    def __init__(self, plan: DownloadPlan) -> None:
        self.manifests: dict[Path, Manifest] = {}
        for lfn, item in plan.failed_items.items():
            self._of(item).failed(item.relpath, lfn, item.bytes, item.adler32, plan.failed.get(lfn, "failed"))
        for lfn in plan.superseded:
            relpath = local_relpath(lfn)
            folder = plan.destination / relpath.split("/", 1)[0]
            inner = relpath.split("/", 1)[-1]
            manifest = self._manifest(folder)
            if inner in manifest.files or ((folder / inner).is_file() and inner not in manifest.superseded):
                manifest.supersede(inner)
                manifest.superseded.setdefault(inner, {"lfn": lfn})
                manifest.changed = True
            elif not (folder / inner).is_file():
                manifest.forget_superseded(inner)

    def _manifest(self, folder: Path) -> Manifest:
        if folder not in self.manifests:
            self.manifests[folder] = Manifest.load(folder)
        return self.manifests[folder]

    def _of(self, item: Item) -> Manifest:
        return self._manifest(item.folder or item.target.parent)

    def add(self, item: Item, kind: str, error: str | None, rse: str | None) -> None:
        manifest = self._of(item)
        if kind == "failed":
            manifest.failed(item.relpath, item.lfn, item.bytes, item.adler32, error or "failed")
        elif not item.trusted:
            entry = entry_for(item.lfn, item.bytes, item.adler32, rse, item.target)
            manifest.verified(item.relpath, entry, keep_time=rse is None)

    def save(self) -> None:
        for manifest in self.manifests.values():
            manifest.save()


def write_list(path: Path, lfns: list[str]) -> None:
    """``--failed_lfns``: one LFN per line (the ``--input_dslist`` format), written atomically.

    Control characters in a (refused) name are escaped so that one name stays one line.
    """
    write_atomic(path, "".join(f"{lfn.encode('unicode_escape').decode()}\n" for lfn in sorted(lfns)))
