"""Checking a downloaded tree against the manifests ``gb2_ds_get`` wrote, offline.

Every file a manifest lists must be there with its recorded size and adler32
(hashed again here: this is the slow, thorough check); a file the manifest lists
as failed counts as missing unless it has since arrived with the catalogue's size
and checksum. Files on disk that the manifest does not list are *superseded*
when they are older reschedule generations of a listed output (recorded so by
``gb2_ds_get``, or recognised by their names), and *extra* otherwise (including
partial files of an interrupted download). Nothing is sent anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb2.data.checksum import adler32_file, normalise_adler32
from gb2.data.manifest import NAME, Manifest, manifests_under
from gb2.errors import UnsafePath
from gb2.jobs.naming import parse_output_name
from gb2.paths import path_inside
from gb2.workers import worker_pool


@dataclass
class Problem:
    path: str  # relative to the folder given to gb2_ds_verify
    lfn: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "lfn": self.lfn, "reason": self.reason}


@dataclass
class AuditReport:
    root: Path
    manifests: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    bytes: int = 0
    missing: list[Problem] = field(default_factory=list)
    corrupt: list[Problem] = field(default_factory=list)
    superseded: list[Problem] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Complete and verified: a manifest, nothing missing, nothing corrupt."""
        return bool(self.manifests) and not self.missing and not self.corrupt

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "manifests": self.manifests, "verified": sorted(self.verified), "bytes": self.bytes,
                "missing": [p.as_json() for p in self.missing], "corrupt": [p.as_json() for p in self.corrupt],
                "superseded": [p.as_json() for p in self.superseded], "extra": sorted(self.extra),
                "pruned": sorted(self.pruned)}  # fmt: skip


def _check(path: Path, size: int | None, adler32: str | None) -> str | None:
    """Why a file does not match its record, or None."""
    try:
        actual_size = path.stat().st_size
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if size is not None and actual_size != size:
        return f"size {actual_size} != {size} recorded"
    if adler32:
        try:
            actual = adler32_file(path)
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        if actual != normalise_adler32(adler32):
            return f"adler32 {actual} != {normalise_adler32(adler32)} recorded"
    return None


def _older_generation(relpath: str, listed: dict[tuple[str, tuple[str, int, str]], int]) -> bool:
    parsed = parse_output_name(relpath)
    if parsed is None:
        return False
    newest = listed.get((relpath.rsplit("/", 1)[0] if "/" in relpath else "", parsed.key))
    return newest is not None and parsed.generation < newest


def audit(root: Path, *, prune_superseded: bool = False, parallel: int = 4) -> AuditReport:
    """Check every manifest at ``root`` (a dataset folder, or a folder of them)."""
    report = AuditReport(root)
    for folder in manifests_under(root):
        manifest = Manifest.load(folder)
        prefix = "" if folder == root else folder.relative_to(root).as_posix() + "/"
        report.manifests.append(prefix + NAME)
        checks: list[tuple[str, dict[str, Any], Path, bool]] = []
        for relpath, entry in list(manifest.files.items()) + list(manifest.missing.items()):
            failed_before = relpath in manifest.missing
            try:
                path = path_inside(folder, relpath)
            except UnsafePath as exc:
                report.corrupt.append(Problem(prefix + relpath, entry.get("lfn"), f"refused: {exc}"))
                continue
            if not path.is_file():
                reason = entry.get("reason") if failed_before else "not on disk"
                report.missing.append(Problem(prefix + relpath, entry.get("lfn"), reason or "not downloaded"))
                continue
            checks.append((relpath, entry, path, failed_before))
        with worker_pool(parallel) as pool:
            results = pool.map(lambda c: _check(c[2], c[1].get("bytes"), c[1].get("adler32")), checks)
            for (relpath, entry, path, failed_before), problem in zip(checks, results, strict=True):
                if problem is None:
                    report.verified.append(prefix + relpath)
                    report.bytes += path.stat().st_size
                elif failed_before:
                    report.missing.append(Problem(prefix + relpath, entry.get("lfn"), f"{entry.get('reason')}; "
                                                  f"the file there does not match: {problem}"))
                else:
                    report.corrupt.append(Problem(prefix + relpath, entry.get("lfn"), problem))
        listed: dict[tuple[str, tuple[str, int, str]], int] = {}
        for relpath in manifest.files:
            parsed = parse_output_name(relpath)
            if parsed is not None:
                key = (relpath.rsplit("/", 1)[0] if "/" in relpath else "", parsed.key)
                listed[key] = max(listed.get(key, -1), parsed.generation)
        known = set(manifest.files) | set(manifest.missing)
        for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
            relpath = path.relative_to(folder).as_posix()
            if relpath == NAME or relpath in known or (path.name.startswith(f".{NAME}.") and path.name.endswith(".tmp")):
                continue
            if relpath in manifest.superseded or _older_generation(relpath, listed):
                lfn = manifest.superseded.get(relpath, {}).get("lfn")
                report.superseded.append(Problem(prefix + relpath, lfn, "older reschedule generation"))
                if prune_superseded:
                    path.unlink()
                    manifest.forget_superseded(relpath)
                    report.pruned.append(prefix + relpath)
            else:
                report.extra.append(prefix + relpath)
        if prune_superseded:
            for relpath in [r for r in manifest.superseded if not (folder / r).exists()]:
                manifest.forget_superseded(relpath)
            manifest.save()
    return report
