"""Input data resolution on the worker: find each LFN's replicas and bring the files in.

A replica on one of the site's own storage elements is used in place (a symlink
to the ``file://`` replica, like a site's local protocol); otherwise the file is
downloaded over HTTP from another SE and verified against the catalogue.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from gb2.client.rucio import RucioClient
from gb2.data.lfn import Did
from gb2.data.transfer import fetch, local_path
from gb2.errors import NotFound, OperationFailed
from gb2.paths import path_inside

if TYPE_CHECKING:
    from gb2.engine.runner import JobRunner


def choose_pfn(replica: dict[str, Any], local_ses: tuple[str, ...]) -> tuple[str, bool]:
    """(PFN, is_local): a file replica on a local SE first, then any HTTP replica."""
    rses: dict[str, list[str]] = replica.get("rses") or {}
    states: dict[str, str] = replica.get("states") or {}
    available = [rse for rse in rses if states.get(rse, "AVAILABLE") == "AVAILABLE"]
    for rse in local_ses:
        if rse in available:
            for pfn in rses[rse]:
                path = local_path(pfn)
                if path is not None and path.is_file():
                    return pfn, True
    for rse in sorted(available, key=lambda r: r not in local_ses):
        for pfn in rses[rse]:
            if pfn.startswith(("http://", "https://")):
                return pfn, False
    for rse in available:
        for pfn in rses[rse]:
            path = local_path(pfn)
            if path is not None and path.is_file():
                return pfn, False
    raise OperationFailed(f"no usable replica of {replica.get('name')}")


def fetch_inputs(runner: JobRunner, lfns: list[str], *, link: bool) -> list[dict[str, str]]:
    rucio = RucioClient(f"{runner.base_url}/rucio", token=lambda: runner.token)
    dids = [Did.from_lfn(lfn) for lfn in lfns]
    replicas = {r["name"]: r for r in rucio.list_replicas(dids, client_site=runner.spec.site)}
    fetched = []
    headers = {"Authorization": f"Bearer {runner.token}"}
    for did in dids:
        replica = replicas.get(did.name)
        if replica is None:
            raise NotFound(f"no replica of {did.name}")
        pfn, is_local = choose_pfn(replica, runner.spec.local_ses)
        dest = path_inside(runner.workdir, os.path.basename(did.name))
        fetch(
            pfn,
            dest,
            size=replica.get("bytes"),
            adler32=replica.get("adler32"),
            headers=headers,
            link=link and is_local,
        )
        fetched.append({"lfn": did.name, "file": dest.name})
    return fetched
