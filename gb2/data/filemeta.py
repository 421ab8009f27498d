"""Per-file metadata: what gb2_ds_query_file prints.

Sizes, checksums, events and replicas come from one bulk replica listing per
argument (``POST /replicas/list``, streamed); job ids, which gb2 stores as JSON
metadata of its outputs, from bulk metadata calls of 1000 files, only when asked
for. Nothing is fetched per file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gb2.client.rucio import FileReplicas, RucioClient
from gb2.data.datasets import resolve_files, targets
from gb2.data.lfn import JOB_ID_KEY
from gb2.errors import BadInput

#: gbasf2-style key -> how to read it.
KEYS = ("lfn", "nEvents", "size", "adler32", "ses", "jobId")
DEFAULT_KEYS = ("lfn", "nEvents", "size", "adler32")


def parse_keys(text: str | None) -> list[str]:
    if not text:
        return list(DEFAULT_KEYS)
    canonical = {k.lower(): k for k in KEYS}
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower() not in canonical:
            raise BadInput(f"unknown metadata key {part!r} (one of: {', '.join(KEYS)})")
        keys.append(canonical[part.lower()])
    return keys or list(DEFAULT_KEYS)


def _job_ids(rucio: RucioClient, files: list[FileReplicas]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for meta in rucio.get_metadata_bulk([(f.scope, f.name) for f in files], plugin="JSON"):
        if JOB_ID_KEY in meta:
            found[meta["name"]] = meta[JOB_ID_KEY]
    return found


def query_files(rucio: RucioClient, args: Iterable[str], user: str, keys: list[str]) -> list[dict[str, Any]]:
    """One dict per file, sorted by LFN, with the requested keys."""
    names = [lfn for arg in args for lfn in targets(rucio, arg, user)]
    files = sorted(resolve_files(rucio, names), key=lambda f: f.name)
    job_ids = _job_ids(rucio, files) if "jobId" in keys and files else {}
    rows = []
    for f in files:
        values = {"lfn": f.name, "nEvents": f.events, "size": f.bytes, "adler32": f.adler32,
                  "ses": sorted(f.rses), "jobId": job_ids.get(f.name)}  # fmt: skip
        rows.append({k: values[k] for k in keys})
    return rows


def format_row(row: dict[str, Any]) -> str:
    """gbasf2's layout: the LFN, then ``key: value`` fields separated by `` | ``."""
    first = row.get("lfn", "")
    fields = [f"{k}: {','.join(v) if isinstance(v, list) else v}" for k, v in row.items() if k != "lfn"]
    return " | ".join([first, *fields]) if first else " | ".join(fields)
