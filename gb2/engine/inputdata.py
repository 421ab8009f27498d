"""Input data resolution on the worker: find each LFN's replicas and bring the files in.

Replicas are taken closest first for the job's site (:mod:`gb2.data.replica_order`:
the site's own storage elements, then by the catalogue's distances), skipping
storage elements flagged down. A replica on one of the site's own storage elements
is used in place (a symlink to the ``file://`` replica, like a site's local
protocol); otherwise the file is downloaded over HTTP and verified against the
catalogue, trying the next replica if one fails.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from gb2.client.rucio import RucioClient
from gb2.data.lfn import Did
from gb2.data.replica_order import ReplicaOrder, replica_order
from gb2.data.transfer import fetch, local_path
from gb2.errors import Gb2Error, NotFound, OperationFailed
from gb2.paths import path_inside

if TYPE_CHECKING:
    from gb2.engine.runner import JobRunner


def candidate_pfns(replica: dict[str, Any], local_ses: tuple[str, ...], order: ReplicaOrder) -> list[tuple[str, bool]]:
    """(PFN, is_local) to try, closest storage element first: a file on a local SE in
    place, else HTTP, else a file that happens to be readable on this machine."""
    rses: dict[str, list[str]] = replica.get("rses") or {}
    states: dict[str, str] = replica.get("states") or {}
    available = [rse for rse in rses if states.get(rse, "AVAILABLE") == "AVAILABLE"]
    out: list[tuple[str, bool]] = []
    for rse in order.usable(available):
        files = [p for p in rses[rse] if (path := local_path(p)) is not None and path.is_file()]
        if rse in local_ses:
            out.extend((p, True) for p in files)
        out.extend((p, False) for p in rses[rse] if p.startswith(("http://", "https://")))
        if rse not in local_ses:
            out.extend((p, False) for p in files)
    if not out:
        raise OperationFailed(f"no usable replica of {replica.get('name')}")
    return out


def fetch_inputs(runner: JobRunner, lfns: list[str], *, link: bool) -> list[dict[str, str]]:
    rucio = RucioClient(f"{runner.base_url}/rucio", token=lambda: runner.token)
    dids = [Did.from_lfn(lfn) for lfn in lfns]
    replicas = {r["name"]: r for r in rucio.list_replicas(dids, client_site=runner.spec.site)}
    order = replica_order(rucio, runner.spec.site)
    fetched = []
    headers = {"Authorization": f"Bearer {runner.token}"}
    for did in dids:
        replica = replicas.get(did.name)
        if replica is None:
            raise NotFound(f"no replica of {did.name}")
        dest = path_inside(runner.workdir, os.path.basename(did.name))
        errors = []
        for pfn, is_local in candidate_pfns(replica, runner.spec.local_ses, order):
            try:
                if runner.spec.fault == "input":  # injected: this worker cannot read its input
                    raise OperationFailed(f"cannot read {pfn}: [Errno 5] Input/output error")
                fetch(pfn, dest, size=replica.get("bytes"), adler32=replica.get("adler32"), headers=headers,
                      link=link and is_local)  # fmt: skip
                break
            except Gb2Error as exc:
                errors.append(str(exc))
        else:
            raise OperationFailed(f"no replica of {did.name} could be read: {errors[-1]}")
        fetched.append({"lfn": did.name, "file": dest.name})
    return fetched
