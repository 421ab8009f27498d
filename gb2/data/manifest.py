"""The manifest ``gb2_ds_get`` writes beside a downloaded dataset: proof of what is there.

One ``gb2_manifest.json`` per dataset folder (``./<dataset>/``) records, for every
file it verified, the LFN, size, adler32, job id and reschedule number (from the
output name), the storage element it came from and when, plus the file's size and
modification time on disk. It also lists the files that failed and the older
reschedule generations left on disk. ``gb2_ds_verify`` checks a tree against it
offline; a later ``gb2_ds_get`` trusts an entry whose file is unchanged on disk
(same size and modification time) and matches the catalogue, so it neither hashes
that file again nor asks the catalogue for its replicas.

The file is JSON, written whole through a temporary name (``gb2.fileio``)::

    {"format": "gb2-download-manifest", "version": 1,
     "files": {"sub00/x.root": {"lfn", "bytes", "adler32", "job_id", "reschedule", "se",
                                "time", "mtime_ns"}},
     "missing": {"sub00/y.root": {"lfn", "bytes", "adler32", "reason"}},
     "superseded": {"sub00/old.root": {... like files ...}}}
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb2.fileio import write_atomic
from gb2.jobs.naming import parse_output_name

NAME = "gb2_manifest.json"
FORMAT = "gb2-download-manifest"
VERSION = 1


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def entry_for(lfn: str, size: int | None, adler32: str | None, se: str | None, path: Path) -> dict[str, Any]:
    """A verified file as the manifest records it (job id and reschedule number from its name)."""
    parsed = parse_output_name(lfn)
    stat = path.stat()
    return {"lfn": lfn, "bytes": size if size is not None else stat.st_size, "adler32": adler32,
            "job_id": parsed.job_id if parsed else None, "reschedule": parsed.generation if parsed else None,
            "se": se, "time": utc_now(), "mtime_ns": stat.st_mtime_ns}  # fmt: skip


@dataclass
class Manifest:
    """The manifest of one dataset folder; paths inside are relative to that folder."""

    folder: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)
    superseded: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: bool = False

    @property
    def path(self) -> Path:
        return self.folder / NAME

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The folder's manifest, or an empty one (a damaged manifest counts as none)."""
        path = folder / NAME
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls(folder)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            return cls(folder)
        return cls(folder, *(_mapping(doc.get(key)) for key in ("files", "missing", "superseded")))

    def trusted(self, relpath: str, lfn: str, size: int | None, adler32: str | None, path: Path) -> bool:
        """Whether a file was verified before and is unchanged since: same catalogue
        entry, same size and modification time on disk."""
        entry = self.files.get(relpath)
        if entry is None or entry.get("lfn") != lfn or entry.get("bytes") != size:
            return False
        if adler32 and (entry.get("adler32") or "").lower().rjust(8, "0") != adler32.lower().rjust(8, "0"):
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        return stat.st_size == size and stat.st_mtime_ns == entry.get("mtime_ns")

    def verified(self, relpath: str, entry: dict[str, Any], *, keep_time: bool = False) -> None:
        old = self.files.get(relpath)
        if keep_time and old and old.get("time") and old.get("lfn") == entry["lfn"]:
            entry = {**entry, "time": old["time"], "se": old.get("se") or entry.get("se")}
        if old != entry:
            self.files[relpath] = entry
            self.changed = True
        if self.missing.pop(relpath, None) is not None:
            self.changed = True

    def failed(self, relpath: str, lfn: str, size: int | None, adler32: str | None, reason: str) -> None:
        self.missing[relpath] = {"lfn": lfn, "bytes": size, "adler32": adler32, "reason": reason}
        self.files.pop(relpath, None)
        self.changed = True

    def supersede(self, relpath: str) -> None:
        """An older reschedule generation: no longer part of the dataset, but maybe still on disk."""
        entry = self.files.pop(relpath, None)
        self.missing.pop(relpath, None)
        if entry is not None:
            self.superseded[relpath] = entry
            self.changed = True

    def forget_superseded(self, relpath: str) -> None:
        if self.superseded.pop(relpath, None) is not None:
            self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        doc = {"format": FORMAT, "version": VERSION, "files": dict(sorted(self.files.items())),
               "missing": dict(sorted(self.missing.items())), "superseded": dict(sorted(self.superseded.items()))}
        write_atomic(self.path, json.dumps(doc, separators=(",", ":")) + "\n")
        self.changed = False


def _mapping(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, dict)}


def manifests_under(root: Path) -> list[Path]:
    """Folders with a manifest: ``root`` itself, or its immediate subfolders."""
    if (root / NAME).is_file():
        return [root]
    try:
        return sorted(p.parent for p in root.glob(f"*/{NAME}") if p.is_file())
    except OSError:
        return []


def has_manifests(destination: Path) -> bool:
    try:
        return any(os.path.isfile(p) for p in destination.glob(f"*/{NAME}"))
    except OSError:
        return False
