"""Finding data: gbasf2's ways of naming it, resolved through Rucio.

Accepted everywhere a command takes data: a project name (``myproject`` ->
``/belle/user/<you>/myproject``), a dataset LPN (a Rucio container), a datablock
(``.../subXX``, a dataset), a collection (``/belle/collection/...``), a file LFN,
or an absolute glob such as ``/belle/user/me/proj/sub*/ntuple_*.root``.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gb2.client.rucio import FileReplicas, RucioClient
from gb2.data.lfn import name_problem, normalise
from gb2.data.replica_order import ReplicaOrder
from gb2.errors import BadInput, NotFound

GLOB_CHARS = re.compile(r"[*?\[]")


def to_lpn(arg: str, user: str) -> str:
    """A project name or relative path becomes ``/belle/user/<user>/...``."""
    text = arg.strip()
    if not text:
        raise BadInput("empty dataset name")
    if text.startswith("LFN:"):
        text = text[4:]
    if not text.startswith("/"):
        if GLOB_CHARS.search(text.split("/", 1)[0]):
            raise BadInput(f"{arg}: wildcards need an absolute path (e.g. /belle/user/{user}/proj*)")
        text = f"/belle/user/{user}/{text}"
    if not text.startswith("/belle/"):
        raise BadInput(f"{arg}: Belle II paths start with /belle/")
    lpn = normalise(text).rstrip("/")
    problem = name_problem(re.sub(r"[*?\[\]!]", "x", lpn))  # glob characters aside
    if problem:
        raise BadInput(f"{arg!r} is not a Belle II name: {problem}")
    return lpn


def is_glob(path: str) -> bool:
    return bool(GLOB_CHARS.search(path))


@dataclass
class Replica:
    """Where a file (or how much of a collection) is: one storage element, closest first."""

    se: str
    state: str  # a file's replica state (AVAILABLE, COPYING, ...); for collections "<n> files"
    se_down: bool = False
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"se": self.se, "state": self.state, "se_down": self.se_down, "note": self.note}


@dataclass
class Entry:
    """One line of a listing."""

    lfn: str
    type: str  # FILE, DATASET, CONTAINER
    bytes: int | None = None
    files: int | None = None
    events: int | None = None
    replicas: list[Replica] = field(default_factory=list)

    @property
    def ses(self) -> list[str]:
        return [r.se for r in self.replicas]

    def as_json(self) -> dict[str, Any]:
        return {"lfn": self.lfn, "type": self.type, "bytes": self.bytes, "files": self.files,
                "events": self.events, "ses": self.ses, "replicas": [r.as_json() for r in self.replicas]}  # fmt: skip


def glob_matches(name: str, pattern: str) -> bool:
    """Shell-style, one path segment at a time: ``*`` never crosses a ``/`` (so that
    ``<dataset>/*`` names the datablocks, not also every file below them)."""
    names, patterns = name.split("/"), pattern.split("/")
    return len(names) == len(patterns) and all(fnmatch.fnmatchcase(n, p) for n, p in zip(names, patterns, strict=True))


def expand_glob(rucio: RucioClient, pattern: str, did_type: str = "all") -> list[str]:
    """Names matching a glob (of ``did_type``: all, file, dataset, container), found through
    Rucio's wildcard search and checked segment by segment."""
    prefix = GLOB_CHARS.split(pattern, 1)[0]
    parent = prefix.rsplit("/", 1)[0] or "/"
    did = rucio.did(parent if parent != "/" else pattern)
    wildcard = re.sub(r"\[[^\]]*\]|\?", "*", pattern)
    found = set()
    for name in rucio.search_dids(did.scope, {"name": wildcard}, did_type=did_type):
        value = name if isinstance(name, str) else name.get("name")
        if value and glob_matches(value, pattern):
            found.add(value)
    return sorted(found)


def did_info(rucio: RucioClient, lfn: str) -> dict[str, Any]:
    """The catalogue's record of a name (type, bytes, ...); :class:`NotFound` if there is none."""
    did = rucio.did(lfn)
    try:
        return rucio.get_did(did.scope, did.name)
    except NotFound:
        raise NotFound(f"no such dataset or file: {lfn}") from None


def did_type(rucio: RucioClient, lfn: str) -> str:
    return str(did_info(rucio, lfn)["type"]).upper()


def targets(rucio: RucioClient, arg: str, user: str) -> list[str]:
    """The LFNs an argument names. A glob may name several, or none: a pattern that
    matches nothing is not an error (the commands say so and exit 0; b2luigi relies
    on it), while a plain name that does not exist is :class:`NotFound` where it is used."""
    lpn = to_lpn(arg, user)
    if is_glob(lpn):
        return expand_glob(rucio, lpn)
    return [lpn]


def list_entries(rucio: RucioClient, lpn: str, *, sizes: bool = False, locations: bool = False,
                 order: ReplicaOrder | None = None) -> Iterator[Entry]:
    """What ``gb2_ds_list`` shows for one name: a container's members, a datablock's files, or a file.

    With ``locations``, every replica is listed with its state, closest first by ``order``,
    including those on storage elements flagged down (marked so)."""
    info = did_info(rucio, lpn)
    kind = str(info["type"]).upper()
    did = rucio.did(lpn)
    order = order or ReplicaOrder()
    if kind == "FILE":
        children = [{"scope": did.scope, "name": did.name, "type": "FILE", "bytes": info.get("bytes"),
                     "events": info.get("events")}]  # fmt: skip
    elif kind == "DATASET":
        children = [{**f, "type": "FILE"} for f in rucio.list_files(did.scope, did.name)]
    else:
        children = list(rucio.list_content(did.scope, did.name))
    states: dict[str, dict[str, str]] = {}
    if locations:
        file_dids = [(c["scope"], c["name"]) for c in children if c.get("type") == "FILE"]
        for record in _all_replicas(rucio, file_dids) if file_dids else ():
            states[record["name"]] = dict(record.get("states") or {})
    for child in sorted(children, key=lambda c: c["name"]):
        entry = Entry(child["name"], str(child.get("type", "FILE")).upper())
        if entry.type == "FILE":
            if sizes or locations:
                entry.bytes = child.get("bytes")
                entry.events = child.get("events")
            found = states.get(child["name"], {})
            entry.replicas = [_replica(order, se, found[se]) for se in order.sort(found)]
        elif sizes or locations:
            _collection_totals(rucio, entry, locations, order)
        yield entry


def _all_replicas(rucio: RucioClient, dids: Any) -> Iterator[dict]:
    """Every replica, in any state and on storage elements that are down too."""
    return rucio.list_replicas(dids, all_states=True, ignore_availability=True)


def _replica(order: ReplicaOrder, se: str, state: str) -> Replica:
    return Replica(se, state, se in order.down, order.note(se))


def _collection_totals(rucio: RucioClient, entry: Entry, locations: bool, order: ReplicaOrder) -> None:
    did = rucio.did(entry.lfn)
    files = list(rucio.list_files(did.scope, did.name))
    entry.files = len(files)
    entry.bytes = sum(int(f.get("bytes") or 0) for f in files)
    if locations and files:
        available: dict[str, int] = {}
        for record in _all_replicas(rucio, [did]):
            for se, state in (record.get("states") or {}).items():
                available[se] = available.get(se, 0) + (state == "AVAILABLE")
        entry.replicas = [_replica(order, se, f"{available[se]} of {len(files)} files available")
                          for se in order.sort(available)]


def resolve_files(rucio: RucioClient, lfns: Iterable[str], *, rse: str | None = None) -> list[FileReplicas]:
    """Every file behind some names, once each, with size, adler32, events and replicas."""
    seen: dict[str, FileReplicas] = {}
    for lfn in lfns:
        try:
            for item in rucio.resolve(lfn, rse_expression=rse):
                seen.setdefault(item.name, item)
        except NotFound:
            raise NotFound(f"no such dataset or file: {lfn}") from None
    return list(seen.values())


def local_relpath(lfn: str) -> str:
    """Where a file lands under the destination: ``<dataset>/<subXX>/<file>`` (gbasf2's layout)."""
    parts = lfn.strip("/").split("/")
    name = parts[-1]
    if len(parts) >= 3 and re.fullmatch(r"sub\d{2,}", parts[-2]):
        return posixpath.join(parts[-3], parts[-2], name)
    if len(parts) >= 2:
        return posixpath.join(parts[-2], name)
    return name


#: A list file bigger than this is not a list of names (100,000 LFNs fit in about 20 MB).
MAX_LIST_BYTES = 64 * 10**6
SEARCH_HEADER = "Matching datasets found:"  # gbasf2's gb2_ds_search prints it first


def read_list_file(path: str) -> list[str]:
    """``--input_dslist`` / ``--failed_lfns`` format: one name per line, # comments allowed.

    The header of gb2_ds_search's output is skipped, so its output can be saved and used as is.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_LIST_BYTES:
        raise BadInput(f"{path} is over {MAX_LIST_BYTES // 10**6} MB: not a list of names")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise BadInput(f"{path} is not a text file (one name per line)")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line[4:] if line.startswith("LFN:") else line for line in lines if line and line != SEARCH_HEADER]
