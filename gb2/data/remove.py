"""Removing your own datasets: what gb2_ds_rm does.

User data lives under ``/belle/user/<you>/`` and is removed the way ``rucio erase``
removes it: the project container (or a datablock) and the collections in it get a
lifetime of 0, and Rucio's undertaker deletes them and their files soon after (the
embedded server at once). Official data and other users' data are refused before
any request that changes something. A project whose jobs are still running is
refused too: its jobs would write into a dataset that is going away.

The name is not freed for gbasf2: gb2 never reuses a project name (the job records
remember it), as gbasf2 promises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gb2.data.datasets import is_glob, to_lpn
from gb2.data.lfn import scope_for
from gb2.errors import BadInput, Forbidden, NotFound
from gb2.jobs.states import FINAL_STATES


@dataclass
class Removal:
    lpn: str
    scope: str
    kind: str  # CONTAINER | DATASET
    files: int
    bytes: int

    def as_json(self) -> dict[str, Any]:
        return {"lpn": self.lpn, "type": self.kind.lower(), "files": self.files, "bytes": self.bytes}


def plan_removal(session: Any, target: str) -> Removal:
    """Check the target and count what would go; nothing is changed."""
    user = session.username
    if is_glob(target):
        raise BadInput("gb2_ds_rm takes one project, dataset or datablock, not a wildcard")
    lpn = to_lpn(target, user).rstrip("/")
    mine = f"/belle/user/{user}/"
    if lpn == mine.rstrip("/"):
        raise BadInput(f"{lpn} is your whole user area: name one project, dataset or datablock in it")
    if not lpn.startswith(mine):
        raise Forbidden(f"{lpn}: gb2_ds_rm removes only your own projects and datasets (under {mine})")
    rucio = session.rucio
    scope = scope_for(lpn)
    try:
        did = rucio.get_did(scope, lpn)
    except NotFound:
        raise NotFound(f"{lpn} does not exist") from None
    kind = str(did.get("type", "")).upper()
    if kind not in ("CONTAINER", "DATASET"):
        raise BadInput(f"{lpn} is a single file: remove its project or datablock instead")
    files = total = 0
    for f in rucio.list_files(scope, lpn):
        files += 1
        total += int(f.get("bytes") or 0)
    return Removal(lpn, scope, kind, files, total)


def active_jobs(session: Any, removal: Removal) -> int:
    """Jobs of the project being removed that have not ended (one server-side summary)."""
    project = removal.lpn.split("/")[4]  # /belle/user/<u>/<project>/...
    rows = session.diracx.summary(["Status"], [
        {"parameter": "Owner", "operator": "eq", "value": session.username},
        {"parameter": "JobGroup", "operator": "eq", "value": project},
    ])  # fmt: skip
    return sum(int(r["count"]) for r in rows if r["Status"] not in FINAL_STATES)


def remove(session: Any, removal: Removal) -> None:
    session.rucio.erase(removal.scope, removal.lpn, recursive=True)
