"""Putting files into your own area of the grid: what gb2_ds_put and gb2_ds_cp do.

Every check that can refuse the request runs before anything is sent: the
destination must lie in your own area (``/belle/user/<you>/``, your scope), every
name must be a canonical LFN, the storage element must take user data (TMP) and
the bytes must fit in your quota there. Then files go up in parallel, each read
once with adler32 computed on the way and checked against what the storage
element stored (:func:`gb2.data.transfer.send`), and are registered in batches
with their size, checksum and events, attached to their datablock. One rule per
datablock at the storage element keeps the files and counts them against your
quota, as ``rucio upload`` does.

Runs are resumable and idempotent: a file already registered with the same size
and adler32 is skipped; one registered with other content is refused (a
catalogue name never changes content); a file sent but never registered (an
interrupted run) is sent again, replacing the stale copy.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb2.client.rucio import RucioClient
from gb2.data.checksum import adler32_file, normalise_adler32
from gb2.data.datasets import did_type, is_glob, to_lpn
from gb2.data.events import events_in
from gb2.data.lfn import (
    DATABLOCK_RE,
    DATABLOCK_SIZE,
    DATASET_META_KEYS,
    datablock,
    is_datablock,
    name_problem,
    scope_for,
)
from gb2.data.manifest import NAME as MANIFEST_NAME
from gb2.data.replica_order import ReplicaOrder
from gb2.data.transfer import ChecksumMismatch, Chunks, file_chunks, pfn_chunks, send
from gb2.errors import BadInput, Forbidden, Gb2Error, LocalWriteFailed, NotFound
from gb2.workers import worker_pool

#: Files registered per catalogue call while uploads go on.
REGISTER_BATCH = 200
#: PFNs asked for per ``lfns2pfns`` call (the LFNs travel in the query string).
PFN_BATCH = 50


@dataclass
class Item:
    """One file to put: where its bytes come from and the LFN it gets."""

    lfn: str
    bytes: int
    chunks: Chunks | None = None  # a local file's bytes (gb2_ds_put)
    path: Path | None = None
    sources: list[tuple[str, str]] = field(default_factory=list)  # (SE, PFN), closest first (gb2_ds_cp)
    adler32: str | None = None  # known beforehand for copies; computed while sending otherwise
    events: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def block(self) -> str:
        return self.lfn.rsplit("/", 1)[0]


@dataclass
class UploadPlan:
    lpn: str  # the destination dataset (a container)
    items: list[Item]
    se: str = ""
    registered: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)  # LFN -> (bytes, adler32)
    meta: dict[str, Any] = field(default_factory=dict)  # Dataset Searcher keys for the dataset

    @property
    def total_bytes(self) -> int:
        return sum(i.bytes for i in self.items)

    @property
    def blocks(self) -> list[str]:
        return sorted({i.block for i in self.items})


@dataclass
class UploadOutcome:
    lpn: str
    se: str
    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "lpn": self.lpn, "se": self.se, "uploaded": sorted(self.uploaded),
                "already_present": sorted(self.present),
                "failed": [{"lfn": lfn, "reason": r} for lfn, r in sorted(self.failed.items())],
                "bytes": self.bytes, "seconds": round(self.seconds, 3)}  # fmt: skip


# -- checks before anything is sent ---------------------------------------------------------------


def own_destination(lpn_arg: str, user: str) -> str:
    """The destination LPN, refused unless it lies in the user's own area and scope."""
    if is_glob(lpn_arg):
        raise BadInput(f"{lpn_arg}: the destination cannot be a wildcard")
    lpn = to_lpn(lpn_arg, user)
    mine = f"/belle/user/{user}"
    problem = name_problem(lpn)
    if problem:
        raise BadInput(f"{lpn}: not a valid Belle II name ({problem})")
    if lpn == mine:
        raise BadInput(f"{lpn}: name a dataset in your area ({mine}/<dataset>), not the area itself")
    if not lpn.startswith(mine + "/"):
        raise Forbidden(f"{lpn}: you may write only in your own area {mine}/ (official data and other users' "
                        "areas are refused)")  # fmt: skip
    if scope_for(lpn) != f"user.{user}":
        raise BadInput(f"{lpn}: not in your scope user.{user}")
    return lpn


def split_destination(lpn: str, block: str | None) -> tuple[str, str | None]:
    """(dataset LPN, first datablock): ``--datablock subXX`` or an LPN ending in one."""
    if block is not None:
        if not DATABLOCK_RE.match(block):
            raise BadInput(f"--datablock {block}: a datablock is named sub00, sub01, ...")
        if is_datablock(lpn):
            raise BadInput(f"{lpn} names a datablock already: drop --datablock or give the dataset LPN")
        return lpn, block
    if is_datablock(lpn):
        return lpn.rsplit("/", 1)[0], lpn.rsplit("/", 1)[1]
    return lpn, None


def local_files(directory: Path) -> dict[str | None, list[Path]]:
    """The files to upload, by datablock: the files in the folder (datablock to choose), or,
    when it holds only ``subXX`` folders (a downloaded dataset), each folder's files."""
    if not directory.is_dir():
        raise BadInput(f"{directory}: not a directory")

    def files_in(folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                      and p.name != MANIFEST_NAME)  # fmt: skip

    top = files_in(directory)
    if top:
        return {None: top}
    blocks = {p.name: files_in(p) for p in sorted(directory.iterdir()) if p.is_dir() and DATABLOCK_RE.match(p.name)}
    found = {name: files for name, files in blocks.items() if files}
    if not found:
        raise BadInput(f"{directory}: no files to upload (hidden files are skipped)")
    return found  # type: ignore[return-value]


def assign(lpn: str, first_block: str | None, files: dict[str | None, list[Path]],
           registered: Iterable[str] = ()) -> list[tuple[Path, str]]:  # fmt: skip
    """(file, LFN): ``subXX`` folders keep their datablock; loose files uploaded before keep
    theirs, and the others fill datablocks of at most 1000 files from ``first_block``
    (default sub00), in name order."""
    earlier: dict[str, str] = {}
    used: dict[str, int] = {}
    for lfn in registered:
        earlier[lfn.rsplit("/", 1)[1]] = lfn
        block_name = lfn[len(lpn) + 1:].split("/", 1)[0]
        used[block_name] = used.get(block_name, 0) + 1
    out: list[tuple[Path, str]] = []
    for block, paths in files.items():
        if block is not None:
            if first_block is not None:
                raise BadInput("the folder holds subXX folders, which keep their datablock: drop --datablock")
            out += [(p, f"{lpn}/{block}/{p.name}") for p in paths]
            continue
        index = int(DATABLOCK_RE.match(first_block or "sub00").group(1))  # type: ignore[union-attr]
        for p in paths:
            if p.name in earlier:
                out.append((p, earlier[p.name]))
                continue
            while used.get(datablock(index), 0) >= DATABLOCK_SIZE:
                index += 1
            used[datablock(index)] = used.get(datablock(index), 0) + 1
            out.append((p, f"{lpn}/{datablock(index)}/{p.name}"))
    bad = [(lfn, problem) for _, lfn in out if (problem := name_problem(lfn))]
    if bad:
        shown = "; ".join(f"{lfn.rsplit('/', 1)[-1]!r}: {problem}" for lfn, problem in bad[:5])
        raise BadInput(f"{len(bad)} file name(s) cannot become Belle II LFNs ({shown}): rename them "
                       "(letters, digits and ._-+ only)")  # fmt: skip
    return out


def check_quota(rucio: RucioClient, se: str, nbytes: int) -> None:
    """Refuse an upload that cannot fit in the account's quota on ``se`` (when one is known)."""
    if nbytes <= 0:
        return
    try:
        usage = rucio.local_account_usage(rucio.current_account(), se)
    except Gb2Error:
        return  # the catalogue will not say: the rule at the end is what enforces it
    for row in usage:
        limit = row.get("bytes_limit")
        if row.get("rse") == se and isinstance(limit, (int, float)) and 0 < limit < float("inf"):
            remaining = float(row.get("bytes_remaining", limit))
            if nbytes > remaining:
                from gb2.ui.output import human_bytes

                raise BadInput(f"{human_bytes(nbytes)} would not fit in your quota on {se}: "
                               f"{human_bytes(max(0.0, remaining))} of {human_bytes(limit)} left (gb2_check_quota)")


def destination_se(session: Any, se: str | None) -> str:
    """``-d SE`` checked (it exists and takes user data), or the TMP storage element at your site."""
    from gb2.data.replication import check_ses
    from gb2.data.storage_elements import storage_elements

    rucio = session.rucio
    if se is not None:
        check_ses(rucio, se)
        return se
    tmp = [s.name for s in storage_elements(rucio) if s.for_user_data and s.writable]
    order = session.replica_order()
    local = [name for name in order.usable(tmp) if name in order.local]
    if not local:
        where = f"at your site {order.site}" if order.site else "at your site (none is set: gb2_config site)"
        raise BadInput(f"no TMP storage element {where}: choose one with -d ({', '.join(sorted(tmp)) or 'none'})")
    return local[0]


def registered_files(rucio: RucioClient, lpn: str) -> dict[str, tuple[int | None, str | None]]:
    """LFN -> (bytes, adler32) of what the destination holds already (nothing if it is new)."""
    did = rucio.did(lpn)
    try:
        return {f["name"]: (f.get("bytes"), f.get("adler32")) for f in rucio.list_files(did.scope, did.name)}
    except NotFound:
        return {}


def plan_put(rucio: RucioClient, user: str, directory: Path, lpn_arg: str, block: str | None) -> UploadPlan:
    """Check the destination and the local files and list what to send; nothing is sent or created."""
    lpn, first_block = split_destination(own_destination(lpn_arg, user), block)
    registered = registered_files(rucio, lpn)
    pairs = assign(lpn, first_block, local_files(directory), registered)
    items = [Item(lfn, path.stat().st_size, chunks=file_chunks(path), path=path) for path, lfn in pairs]
    return UploadPlan(lpn, items, registered=registered)


def plan_copy(rucio: RucioClient, user: str, source_arg: str, dest_arg: str,
              order: ReplicaOrder | None = None) -> UploadPlan:
    """A copy of a dataset or datablock under a new LPN in your own area: new file names,
    read from the source's closest healthy replicas, checked against the source's
    catalogue checksums. Nothing is sent or created."""
    dest_ds, dest_block = split_destination(own_destination(dest_arg, user), None)
    if is_glob(source_arg):
        raise BadInput(f"{source_arg}: copy one dataset or datablock, not a wildcard")
    source = to_lpn(source_arg, user)
    kind = did_type(rucio, source)
    if kind == "FILE":
        raise BadInput(f"{source} is a file: copy its dataset or datablock")
    for a, b in ((source, dest_ds), (dest_ds, source)):
        if a == b or a.startswith(b + "/"):
            raise BadInput(f"{source} and {dest_ds} overlap: copy into a new dataset")
    did = rucio.did(source)
    listing = {f["name"]: f for f in rucio.list_files(did.scope, did.name)}
    replicas = {r["name"]: r.get("rses") or {} for r in rucio.list_replicas([did])} if listing else {}
    ranking = order or ReplicaOrder()
    items = []
    for name in sorted(listing):
        rel = name[len(source) + 1:].split("/")
        if kind == "DATASET" and len(rel) == 1:
            block = dest_block or (source.rsplit("/", 1)[1] if is_datablock(source) else "sub00")
        elif kind == "CONTAINER" and len(rel) == 2 and DATABLOCK_RE.match(rel[0]) and dest_block is None:
            block = rel[0]
        else:
            raise BadInput(f"{source} is not a dataset of datablocks ({name} does not fit): copy its datasets "
                           "one at a time")  # fmt: skip
        rses = replicas.get(name, {})
        sources = [(rse, pfn) for rse in ranking.usable(rses) for pfn in sorted(rses[rse], key=_http_first)]
        f = listing[name]
        items.append(Item(f"{dest_ds}/{block}/{rel[-1]}", int(f.get("bytes") or 0), sources=sources,
                          adler32=f.get("adler32"), events=f.get("events")))  # fmt: skip
    if not items:
        raise NotFound(f"{source} holds no files to copy")
    bad = [(i.lfn, p) for i in items if (p := name_problem(i.lfn))]
    if bad:
        raise BadInput(f"{bad[0][0]}: not a valid Belle II name ({bad[0][1]})")
    meta: dict[str, Any] = {}
    if kind == "CONTAINER":
        found = rucio.get_metadata(did.scope, did.name, plugin="JSON")
        meta = {k: v for k, v in found.items() if k in DATASET_META_KEYS}
    return UploadPlan(dest_ds, items, registered=registered_files(rucio, dest_ds), meta=meta)


def _http_first(pfn: str) -> int:
    return 0 if pfn.startswith(("https://", "http://", "davs://")) else 1


# -- sending and registering ----------------------------------------------------------------------


class Uploader:
    """Sends a plan's files in parallel and registers them as they arrive."""

    def __init__(self, rucio: RucioClient, headers: Callable[[], dict[str, str]], *, parallel: int = 4,
                 attempts: int = 2, progress: Callable[[int], None] | None = None,
                 comment: str = "gb2_ds_put") -> None:  # fmt: skip
        self.rucio = rucio
        self.headers = headers
        self.parallel = max(1, parallel)
        self.attempts = max(1, attempts)
        self.progress = progress
        self.comment = comment
        self._pending: list[tuple[Item, int, str]] = []
        self._lock = threading.Lock()

    def prepare(self, plan: UploadPlan) -> None:
        """The dataset container and its datablocks (kept if they exist)."""
        dataset = self.rucio.did(plan.lpn)
        self.rucio.add_container(dataset.scope, dataset.name, exist_ok=True)
        if plan.meta:
            self.rucio.set_metadata_bulk(dataset.scope, dataset.name, plan.meta)
        blocks = [self.rucio.did(b) for b in plan.blocks]
        for block in blocks:
            self.rucio.add_dataset(block.scope, block.name, exist_ok=True)
        if blocks:
            self.rucio.attach(dataset.scope, dataset.name, blocks)

    def run(self, plan: UploadPlan) -> UploadOutcome:
        outcome = UploadOutcome(plan.lpn, plan.se)
        started = time.monotonic()
        todo: list[Item] = []
        for item in plan.items:
            known = plan.registered.get(item.lfn)
            if known is None:
                todo.append(item)
            elif known[0] != item.bytes:
                outcome.failed[item.lfn] = _conflict(known, item.bytes)
            else:
                todo.append(item)  # same size: its checksum decides (computed in parallel below)
        self.prepare(plan)
        pfns = self._pfns(plan.se, [i.lfn for i in todo if i.lfn not in plan.registered])
        with worker_pool(self.parallel) as pool:
            results = pool.map(lambda i: self._one(i, plan, pfns), todo)
            try:
                for item, (kind, detail) in zip(todo, results, strict=True):
                    if kind == "present":
                        outcome.present.append(item.lfn)
                    elif kind == "failed":
                        outcome.failed[item.lfn] = detail
                    else:
                        outcome.uploaded.append(item.lfn)
                        outcome.bytes += item.bytes
                        self._register(plan.se, force=False)
            finally:
                self._register(plan.se, force=True)
        registered = {i.lfn for i in plan.items} - set(outcome.failed)
        self.protect(plan.se, sorted({lfn.rsplit("/", 1)[0] for lfn in registered}))
        outcome.seconds = time.monotonic() - started
        return outcome

    def _pfns(self, se: str, lfns: list[str]) -> dict[str, str]:
        names = {lfn: str(self.rucio.did(lfn)) for lfn in lfns}
        batches = [list(names.values())[i:i + PFN_BATCH] for i in range(0, len(names), PFN_BATCH)]
        found: dict[str, str] = {}
        with worker_pool(min(8, len(batches))) as pool:
            for part in pool.map(lambda b: self.rucio.lfns2pfns(se, b, operation="write"), batches):
                found.update(part)
        return {lfn: found[did] for lfn, did in names.items()}

    def _one(self, item: Item, plan: UploadPlan, pfns: dict[str, str]) -> tuple[str, str]:
        """(kind, detail): present (registered with this content), sent, or failed."""
        known = plan.registered.get(item.lfn)
        if known is not None:
            try:
                actual = item.adler32 or (adler32_file(item.path) if item.path else None)
            except OSError as exc:
                return "failed", f"cannot read {item.path}: {exc.strerror or exc}"
            if actual and known[1] and normalise_adler32(known[1]) != normalise_adler32(actual):
                return "failed", _conflict(known, item.bytes, actual)
            return "present", ""
        errors: list[str] = []
        for source_se, chunks in self._sources(item):
            for attempt in range(self.attempts):
                try:
                    sent = send(chunks, item.bytes, pfns[item.lfn], headers=self.headers(), adler32=item.adler32,
                                progress=self.progress)  # fmt: skip
                except LocalWriteFailed as exc:
                    return "failed", str(exc)
                except (Gb2Error, OSError) as exc:
                    errors.append(f"{source_se + ': ' if source_se else ''}{exc}")
                    if isinstance(exc, ChecksumMismatch) and item.adler32 is None:
                        break  # a local file changed while being read: sending again would not help
                    if attempt + 1 < self.attempts:
                        time.sleep(0.2 * (attempt + 1))
                    continue
                if item.events is None and item.path is not None:
                    item.events = events_in(item.path)
                with self._lock:
                    self._pending.append((item, sent.bytes, sent.adler32))
                return "sent", ""
        return "failed", errors[-1] if errors else "no readable source"

    def _sources(self, item: Item) -> Iterable[tuple[str | None, Chunks]]:
        if item.chunks is not None:
            yield None, item.chunks
        for se, pfn in item.sources:
            yield se, pfn_chunks(pfn, self.headers())

    def _register(self, se: str, *, force: bool) -> None:
        with self._lock:
            if not self._pending or (len(self._pending) < REGISTER_BATCH and not force):
                return
            batch, self._pending = self._pending, []
        by_block: dict[str, list[dict]] = defaultdict(list)
        for item, size, checksum in batch:
            by_block[item.block].append({"name": item.lfn, "bytes": size, "adler32": checksum, "events": item.events,
                                         "meta": dict(item.meta)})  # fmt: skip
        for block, specs in by_block.items():
            self.rucio.register_files(se, specs, block)

    def protect(self, se: str, blocks: list[str]) -> None:
        """One rule per datablock at the storage element (an existing one is kept)."""
        for block in blocks:
            did = self.rucio.did(block)
            self.rucio.add_rule([did], 1, se, comment=self.comment, exist_ok=True)


def _conflict(known: tuple[int | None, str | None], size: int, adler32: str | None = None) -> str:
    theirs = f"{known[0]} bytes, adler32 {known[1]}"
    ours = f"{size} bytes" + (f", adler32 {adler32}" if adler32 else "")
    return (f"already registered with other content ({theirs}; this file: {ours}): a catalogue name never "
            "changes content, so rename the file or remove the dataset (gb2_ds_rm)")


def default_headers(session: Any) -> Callable[[], dict[str, str]]:
    """What storage elements accept from this user: the DiracX bearer token."""
    return lambda: {"Authorization": f"Bearer {session.diracx.access_token()}"}
