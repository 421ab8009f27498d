"""Dataset-level metadata: what gb2_ds_query_dataset shows.

For a dataset (a Rucio container of datablocks) or one datablock: its Dataset
Searcher keys (JSON metadata), datablocks, files, events and bytes from one
streamed file listing, and per storage element how many of its files are there
and available, from one streamed replica listing that includes storage
elements flagged down (marked), closest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.client.rucio import RucioClient
from gb2.data.datasets import did_type
from gb2.data.lfn import COLLECTION_META_KEYS
from gb2.data.replica_order import ReplicaOrder


@dataclass
class SeShare:
    se: str
    files: int  # files with an AVAILABLE replica there
    bytes: int
    other: int  # replicas in another state (COPYING, BAD, ...)
    complete: bool
    se_down: bool
    note: str

    def as_json(self) -> dict[str, Any]:
        return {"se": self.se, "files": self.files, "bytes": self.bytes, "other_states": self.other,
                "complete": self.complete, "se_down": self.se_down, "note": self.note}  # fmt: skip


@dataclass
class DatasetInfo:
    lpn: str
    type: str  # dataset | datablock | collection
    metadata: dict[str, Any]
    datablocks: int
    files: int
    events: int | None  # None when no file records its events
    events_known: int  # files whose events are known
    bytes: int
    storage: list[SeShare] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"lpn": self.lpn, "type": self.type, "metadata": self.metadata, "datablocks": self.datablocks,
                "files": self.files, "events": self.events, "events_known": self.events_known, "bytes": self.bytes,
                "storage_elements": [s.as_json() for s in self.storage]}  # fmt: skip


def dataset_info(rucio: RucioClient, lpn: str, order: ReplicaOrder | None = None) -> DatasetInfo:
    kind = did_type(rucio, lpn)
    did = rucio.did(lpn)
    if kind == "FILE":
        from gb2.errors import BadInput

        raise BadInput(f"{lpn} is a file: gb2_ds_query_file shows files")
    meta = rucio.get_metadata(did.scope, did.name, plugin="JSON")
    content = list(rucio.list_content(did.scope, did.name)) if kind == "CONTAINER" else []
    blocks = sum(1 for c in content if c.get("type") == "DATASET") if kind == "CONTAINER" else 1
    shown_type = "datablock" if kind == "DATASET" else (
        "collection" if content and all(c.get("type") == "CONTAINER" for c in content) else "dataset")
    files = list(rucio.list_files(did.scope, did.name))
    known = [int(f["events"]) for f in files if f.get("events") is not None]
    sizes = {f["name"]: int(f.get("bytes") or 0) for f in files}
    counts: dict[str, list[int]] = {}
    for record in rucio.list_replicas([did], all_states=True, ignore_availability=True) if files else ():
        for se, state in (record.get("states") or {}).items():
            row = counts.setdefault(se, [0, 0, 0])
            if state == "AVAILABLE":
                row[0] += 1
                row[1] += sizes.get(record["name"], int(record.get("bytes") or 0))
            else:
                row[2] += 1
    order = order or ReplicaOrder()
    storage = [SeShare(se, counts[se][0], counts[se][1], counts[se][2], counts[se][0] == len(files),
                       se in order.down, order.note(se)) for se in order.sort(counts)]  # fmt: skip
    return DatasetInfo(lpn, shown_type, {k: v for k, v in sorted(meta.items()) if k in COLLECTION_META_KEYS},
                       blocks, len(files), sum(known) if known else None, len(known), sum(sizes.values()), storage)
