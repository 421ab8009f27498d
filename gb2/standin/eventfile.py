"""The stand-in's own event-file format (what gb2 writes where basf2 would write ROOT).

gb2's basf2 stand-in cannot write real ROOT files (that needs ROOT, which is not
installed with gb2). Files it reads and writes -- synthetic mdst/udst/MC inputs,
``RootOutput`` and ``VariablesToNtuple`` outputs -- use this small format instead,
even when the name ends in ``.root``. Real ROOT tools cannot open them, and the
stand-in refuses real ROOT files with a clear :class:`EventFileError`.

Layout (all deterministic: same records -> identical bytes, no timestamps)::

    b"GB2EVT01\\n"                 magic line
    <header JSON>\\n               one line, keys sorted
    <payload>                     zlib-compressed JSON lines

Header keys:

* ``format``: ``"gb2-standin-eventfile"``, ``version``: ``1``
* ``kind``: ``"mdst" | "udst" | "mc" | "ntuple"``
* ``events``: number of events; for ntuples the number of rows of the *first*
  tree (the per-tree counts are in ``trees``)
* ``trees``: ntuples only: ``[{"name", "columns", "rows"}, ...]`` in file order
* ``metadata``: free dict (experiment, run, event type, parents, ...)
* ``payload``: ``{"encoding": "zlib+jsonl", "bytes": N, "adler32": "xxxxxxxx"}``

Payload lines are one event dict per line; for ntuples ``[tree_index, [values]]``
with values in the order of that tree's ``columns`` (missing values are null;
NaN is written as the JSON extension ``NaN``, which Python's json reads back).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

MAGIC = b"GB2EVT01\n"
FORMAT = "gb2-standin-eventfile"
VERSION = 1
KINDS = ("mdst", "udst", "mc", "ntuple")
#: A header longer than this means the file is not ours (or is damaged).
MAX_HEADER_BYTES = 1 << 20
_ROOT_MAGIC = b"root"

PathLike = str | os.PathLike[str]


class EventFileError(Exception):
    """A file is not a stand-in event file, is damaged, or is of the wrong kind."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


class _PayloadWriter:
    """Compresses JSON lines in memory while keeping the checksum of the result."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(6)
        self._chunks: list[bytes] = []
        self.count = 0

    def add(self, record: Any) -> None:
        self._chunks.append(self._z.compress(_dumps(record).encode() + b"\n"))
        self.count += 1

    def finish(self) -> bytes:
        self._chunks.append(self._z.flush())
        return b"".join(self._chunks)


def _write(path: PathLike, header: dict[str, Any], payload: bytes) -> None:
    """Write magic, header and payload under a temporary name, then rename into place."""
    header = dict(header)
    header["format"] = FORMAT
    header["version"] = VERSION
    header["payload"] = {
        "encoding": "zlib+jsonl",
        "bytes": len(payload),
        "adler32": f"{zlib.adler32(payload) & 0xFFFFFFFF:08x}",
    }
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            f.write(_dumps(header).encode() + b"\n")
            f.write(payload)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class EventFileWriter:
    """Writes an event file one event at a time, keeping only the compressed payload in memory.

    The file appears (via a temporary name) only at :meth:`close`, when the event
    count and the metadata are known.
    """

    def __init__(self, path: PathLike, *, kind: str) -> None:
        if kind not in KINDS or kind == "ntuple":
            raise ValueError(f"event-file kind must be one of mdst, udst, mc, not {kind!r}")
        self.path, self.kind = path, kind
        self._payload = _PayloadWriter()

    @property
    def count(self) -> int:
        return self._payload.count

    def add(self, event: dict) -> None:
        self._payload.add(event)

    def close(self, metadata: dict | None = None) -> int:
        payload = self._payload.finish()
        header = {"kind": self.kind, "events": self.count, "metadata": dict(metadata or {})}
        _write(self.path, header, payload)
        return self.count


def write_event_file(
    path: PathLike, events: Iterable[dict], *, kind: str, metadata: dict | None = None
) -> int:
    """Write ``events`` (JSON-able dicts) as an event file of ``kind``; return the count."""
    writer = EventFileWriter(path, kind=kind)
    for event in events:
        writer.add(event)
    return writer.close(metadata)


def write_ntuple(
    path: PathLike, trees: dict[str, list[dict]], *, metadata: dict | None = None
) -> int:
    """Write flat trees (name -> rows); return the rows of the first tree.

    A tree's columns are the row keys in order of first appearance, so a tree with
    no rows has no columns. An empty ``trees`` dict gives an ntuple with 0 events.
    """
    w = _PayloadWriter()
    tree_info = []
    for index, (name, rows) in enumerate(trees.items()):
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        names = list(columns)
        for row in rows:
            w.add([index, [row.get(c) for c in names]])
        tree_info.append({"name": name, "columns": names, "rows": len(rows)})
    payload = w.finish()
    events = tree_info[0]["rows"] if tree_info else 0
    header = {
        "kind": "ntuple",
        "events": events,
        "trees": tree_info,
        "metadata": dict(metadata or {}),
    }
    _write(path, header, payload)
    return events


def _read_head(f, path: PathLike) -> dict[str, Any]:
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        if magic.startswith(_ROOT_MAGIC):
            raise EventFileError(
                f"{path}: this is a real ROOT file; gb2's basf2 stand-in reads only its own "
                "event files (install basf2 to process ROOT files)"
            )
        raise EventFileError(f"{path}: not a gb2 stand-in event file (bad magic)")
    line = f.readline(MAX_HEADER_BYTES)
    if not line.endswith(b"\n"):
        raise EventFileError(f"{path}: truncated or oversized event-file header")
    try:
        header = json.loads(line)
    except ValueError as e:
        raise EventFileError(f"{path}: corrupt event-file header ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise EventFileError(f"{path}: header does not describe a {FORMAT} file")
    if header.get("version") != VERSION:
        raise EventFileError(f"{path}: unsupported event-file version {header.get('version')!r}")
    if header.get("kind") not in KINDS or not isinstance(header.get("events"), int):
        raise EventFileError(f"{path}: event-file header lacks a valid kind or event count")
    return header


def read_header(path: PathLike) -> dict[str, Any]:
    """The header only (reads the first line; the payload is not touched)."""
    try:
        with open(path, "rb") as f:
            return _read_head(f, path)
    except OSError as e:
        raise EventFileError(f"{path}: cannot read: {e.strerror or e}") from None


def count_events(path: PathLike) -> int:
    """Number of events recorded in the header (rows of the first tree for ntuples)."""
    return int(read_header(path)["events"])


def verify(path: PathLike) -> dict[str, Any]:
    """Check header, payload size and checksum without decompressing; return the header."""
    return _read_checked(path)[0]


def _read_checked(path: PathLike) -> tuple[dict[str, Any], bytes]:
    """Header and compressed payload, after checking the payload's size and checksum."""
    try:
        with open(path, "rb") as f:
            header = _read_head(f, path)
            payload = f.read()
    except OSError as e:
        raise EventFileError(f"{path}: cannot read: {e.strerror or e}") from None
    _check_payload(path, header, payload)
    return header, payload


def _check_payload(path: PathLike, header: dict[str, Any], payload: bytes) -> None:
    info = header.get("payload") or {}
    if len(payload) != info.get("bytes"):
        raise EventFileError(
            f"{path}: payload is {len(payload)} bytes, header says {info.get('bytes')} (truncated?)"
        )
    if f"{zlib.adler32(payload) & 0xFFFFFFFF:08x}" != info.get("adler32"):
        raise EventFileError(f"{path}: payload checksum mismatch (file is corrupt)")


def _records(path: PathLike) -> tuple[dict[str, Any], list[Any]]:
    """Header and all payload records, after checking size, checksum and count."""
    header, payload = _read_checked(path)
    try:
        lines = zlib.decompress(payload).splitlines()
        records = [json.loads(line) for line in lines]
    except (zlib.error, ValueError) as e:
        raise EventFileError(f"{path}: cannot decode payload ({e})") from None
    expected = (
        sum(t["rows"] for t in header.get("trees", []))
        if header["kind"] == "ntuple"
        else header["events"]
    )
    if len(records) != expected:
        raise EventFileError(f"{path}: {len(records)} records, header says {expected}")
    return header, records


def iter_events(path: PathLike) -> Iterator[dict]:
    """Events of an mdst/udst/mc file in order (rows of the first tree for ntuples).

    The whole file is checked (size, checksum, count) before the first event is
    yielded, so a corrupt file fails before any processing starts.
    """
    header, records = _records(path)
    if header["kind"] == "ntuple":
        if header.get("trees"):
            yield from read_ntuple(path)[header["trees"][0]["name"]]
        return
    for record in records:
        if not isinstance(record, dict):
            raise EventFileError(f"{path}: event record is not an object")
        yield record


def read_ntuple(path: PathLike) -> dict[str, list[dict]]:
    """All trees of an ntuple file as name -> rows (dicts keyed by column)."""
    header, records = _records(path)
    if header["kind"] != "ntuple":
        raise EventFileError(f"{path}: is a {header['kind']} file, not an ntuple")
    trees = header.get("trees", [])
    out: dict[str, list[dict]] = {t["name"]: [] for t in trees}
    for record in records:
        try:
            index, values = record
            tree = trees[index]
        except (TypeError, ValueError, IndexError):
            raise EventFileError(f"{path}: malformed ntuple record") from None
        out[tree["name"]].append(dict(zip(tree["columns"], values, strict=True)))
    return out
