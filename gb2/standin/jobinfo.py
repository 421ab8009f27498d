"""The ``--job-information`` JSON file, in the layout basf2's MetadataService writes.

What basf2 writes (framework/core MetadataService, read in basf2's public source):

* ``basf2_apiversion``: 1
* ``output_files``: one entry per closed output file, in closing order:
  ``RootOutput`` files: ``{"type": "RootOutput", "filename", "metadata": <FileMetaData
  as JSON>, "checks_passed": {...}, "stats": {"events", ...}, "checksums": {"md5",
  "adler32"}}`` (``checks_passed``/``stats`` come from ``b2file-check --json``);
  ntuples: ``{"type": "RootNtuple", "filename", "checksums": {...}}``
* ``modules_calls``: module name -> number of event calls
* ``basf2_status``: ``elapsed_walltime_sec``, ``resident_memory_mb``,
  ``runs_processed``, ``events_processed``, ``total_events``, ``fatals``,
  ``errors``, ``warnings``, ``finished``, ``message``, ``success``

The file is rewritten after every change, so a job killed half-way leaves a valid
file with ``finished: false``, as basf2's does.

gb2 additions (not written by basf2): ``gb2_standin`` (who wrote the file),
``stats.events`` and ``stats.trees`` for ntuples (basf2 records no event count for
ntuples), and ``basf2_status.exit_status`` (the process exit status; basf2's file
has only ``success``).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from gb2.data.checksum import adler32_file
from gb2.standin import STANDIN_VERSION
from gb2.standin.b2log import LOG, LogLevel
from gb2.standin.runtime import ENV

_START = time.monotonic()


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class JobInformation:
    """Collects the job-information document and rewrites it on every update."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = {
            "basf2_apiversion": 1,
            "gb2_standin": {
                "version": STANDIN_VERSION,
                "note": "written by gb2's basf2 stand-in, not by basf2; outputs are gb2 event files",
            },
        }

    def _checksums(self, path: Path) -> dict[str, str]:
        return {"md5": _md5(path), "adler32": adler32_file(path)}

    def add_root_output(self, filename: str, metadata: dict[str, Any], events: int) -> None:
        path = Path(filename)
        if not path.is_file():
            return
        size_kib = path.stat().st_size / 1024.0
        stats: dict[str, Any] = {
            "events": events,
            "filesize_kib": size_kib,
            "mcevents": metadata.get("mcEvents", 0),
        }
        if events:
            stats["size_per_event_kib"] = size_kib / events
        entry = {
            "type": "RootOutput",
            "filename": filename,
            "metadata": metadata,
            "checks_passed": {
                "file_readable": True,
                "entries_eq_filemetedata": metadata.get("nEvents") == events,
            },
            "stats": stats,
            "checksums": self._checksums(path),
        }
        self.doc.setdefault("output_files", []).append(entry)
        self.write()

    def add_root_ntuple(self, filename: str, trees: dict[str, int]) -> None:
        path = Path(filename)
        if not path.is_file():
            return
        first = next(iter(trees.values()), 0)
        entry = {
            "type": "RootNtuple",
            "filename": filename,
            "stats": {"events": first, "trees": trees},
            "checksums": self._checksums(path),
        }
        self.doc.setdefault("output_files", []).append(entry)
        self.write()

    def set_module_calls(self, calls: dict[str, int]) -> None:
        self.doc["modules_calls"] = dict(calls)
        self.write()

    def status(
        self, message: str, *, finished: bool = False, exit_status: int | None = None
    ) -> None:
        """basf2's ``addBasf2Status`` (+ ``finishBasf2`` when ``finished``)."""
        status = self.doc.setdefault("basf2_status", {})
        status["elapsed_walltime_sec"] = time.monotonic() - _START
        status["resident_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        status["runs_processed"] = ENV.runs_processed
        status["events_processed"] = ENV.events_processed
        status["total_events"] = ENV.total_events
        status["fatals"] = LOG.count(LogLevel.FATAL)
        status["errors"] = LOG.count(LogLevel.ERROR)
        status["warnings"] = LOG.count(LogLevel.WARNING)
        status["finished"] = finished
        status["message"] = message
        if finished:
            status["success"] = exit_status == 0
            status["exit_status"] = exit_status
        self.write()

    def write(self) -> None:
        target = ENV.job_information
        if target is None:
            return
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.doc, indent=2) + "\n")
        os.replace(tmp, target)


JOB_INFO = JobInformation()
