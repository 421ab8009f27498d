"""gbasf2's naming rules: project names, output datasets and output file names.

Output files are named ``<stem>_<5-digit index>_job<JobID>_<2-digit reschedule>.<ext>``
(multi-dot extensions kept: ``x.udst.root`` -> ``x_00007_job12_00.udst.root``) in
datablocks ``sub00``, ``sub01``... of at most 1000 files. A rescheduled job writes a
new generation with a higher suffix; downloads keep only the newest generation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gb2.data.lfn import DATABLOCK_SIZE as DATABLOCK_FILES
from gb2.data.lfn import datablock
from gb2.errors import BadInput

PROJECT_RE = re.compile(r"^[A-Za-z0-9+\-_]{1,32}$")
MAX_PROJECT_LENGTH = 32
_OUTPUT_RE = re.compile(r"^(?P<stem>.+)_(?P<index>\d{5})_job(?P<job>\d+)_(?P<gen>\d{2,})(?P<ext>(\.[^./]+)*)$")


def validate_project(name: str) -> str:
    """gbasf2's rule: at most 32 letters, digits or ``+ - _``."""
    if not name:
        raise BadInput("the project name is empty")
    if len(name) > MAX_PROJECT_LENGTH:
        raise BadInput(f"Project name is too long ({len(name)} characters, max {MAX_PROJECT_LENGTH}): {name}")
    if not PROJECT_RE.match(name):
        bad = sorted({repr(ch) for ch in name if not re.match(r"[A-Za-z0-9+\-_]", ch)})
        raise BadInput(f"Project name {name!r} has characters gbasf2 does not allow: {' '.join(bad)} "
                       "(use letters, digits, + - _)")  # fmt: skip
    return name


def datablock_of_job(index: int) -> str:
    """The datablock of the ``index``-th job's outputs (1000 per datablock)."""
    return datablock(index // DATABLOCK_FILES)


def split_extension(filename: str) -> tuple[str, str]:
    """``ntuple.udst.root`` -> (``ntuple``, ``.udst.root``); a leading dot is part of the stem."""
    head, dot, rest = filename.lstrip(".").partition(".")
    prefix = filename[: len(filename) - len(filename.lstrip("."))]
    return prefix + head, (dot + rest) if dot else ""


def output_file_name(filename: str, index: int, job_id: int, reschedule: int) -> str:
    stem, ext = split_extension(filename)
    return f"{stem}_{index:05d}_job{job_id}_{reschedule:02d}{ext}"


def output_lfn(output_lpn: str, filename: str, index: int, job_id: int, reschedule: int) -> str:
    block = datablock_of_job(index)
    return f"{output_lpn.rstrip('/')}/{block}/{output_file_name(filename, index, job_id, reschedule)}"


@dataclass(frozen=True)
class OutputName:
    stem: str
    index: int
    job_id: int
    generation: int
    ext: str

    @property
    def key(self) -> tuple[str, int, str]:
        """Outputs of the same file of the same job index, whatever the generation."""
        return (self.stem, self.index, self.ext)


def parse_output_name(name: str) -> OutputName | None:
    """The parts of a gbasf2 v5 output name; None for other (e.g. v4-era) names."""
    base = name.rsplit("/", 1)[-1]
    m = _OUTPUT_RE.match(base)
    if not m:
        return None
    return OutputName(m["stem"], int(m["index"]), int(m["job"]), int(m["gen"]), m["ext"])


def newest_generations(lfns: Iterable[str]) -> tuple[list[str], list[str]]:
    """(files to download, older generations superseded by a reschedule).

    Files of one job index and output keep only the highest reschedule suffix
    (ties broken by job id); names that do not follow the v5 pattern are kept.
    """
    lfns = list(lfns)
    best: dict[tuple[str, tuple[str, int, str]], tuple[int, int, str]] = {}
    keep: list[str] = []
    for lfn in lfns:
        parsed = parse_output_name(lfn)
        if parsed is None:
            keep.append(lfn)
            continue
        directory = lfn.rsplit("/", 2)[0] if lfn.count("/") >= 2 else ""
        key = (directory, parsed.key)
        rank = (parsed.generation, parsed.job_id, lfn)
        if key not in best or rank > best[key]:
            best[key] = rank
    winners = {rank[2] for rank in best.values()}
    superseded = [lfn for lfn in lfns if parse_output_name(lfn) is not None and lfn not in winners]
    keep.extend(sorted(winners))
    return sorted(keep), sorted(superseded)
