"""Catalogue operations gb2 builds on Rucio: registering job outputs.

Outputs are written to the storage element first (at the PFN Rucio's
``lfns2pfns`` gives for the RSE), then registered with their size, adler32 and
event count and attached to their datablock. Registration is idempotent, so a
retried upload never registers a file twice.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from gb2.client.rucio import RucioClient
from gb2.data.lfn import JOB_ID_KEY
from gb2.data.transfer import upload
from gb2.errors import NotFound


def register_outputs(
    rucio: RucioClient,
    rse: str,
    files: list[tuple[Path, str, int | None]],
    *,
    job_id: int | None = None,
    token: str | None = None,
) -> None:
    """Upload ``(local path, LFN, events)`` files to ``rse`` and register them in their datablocks."""
    dids = {lfn: rucio.did(lfn) for _, lfn, _ in files}
    pfns = rucio.lfns2pfns(rse, [f"{d.scope}:{d.name}" for d in dids.values()], operation="write")
    # Storage accepts the same credentials as the catalogue: a bearer token, or Rucio's own.
    headers = {"Authorization": f"Bearer {token}"} if token else {"X-Rucio-Auth-Token": rucio.token()}
    by_block: dict[str, list[dict]] = defaultdict(list)
    for path, lfn, events in files:
        did = dids[lfn]
        pfn = pfns[f"{did.scope}:{did.name}"]
        checksum = upload(path, pfn, headers=headers)
        meta = {JOB_ID_KEY: job_id} if job_id is not None else {}
        by_block[lfn.rsplit("/", 1)[0]].append(
            {"scope": did.scope, "name": did.name, "bytes": path.stat().st_size, "adler32": checksum,
             "events": events, "meta": meta}
        )  # fmt: skip
    for block, specs in by_block.items():
        try:
            rucio.register_files(rse, specs, block)
        except NotFound:
            # A datablock the submission did not create (e.g. sub01 of a growing project).
            parent = rucio.did(block)
            rucio.add_dataset(parent.scope, parent.name, exist_ok=True)
            project = rucio.did(block.rsplit("/", 1)[0])
            rucio.attach(project.scope, project.name, [parent])
            rucio.register_files(rse, specs, block)
