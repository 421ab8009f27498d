"""Your own collections of datasets: what gb2_ds_collection does.

A collection is a Rucio container of dataset containers. Official ones live under
``/belle/collection/`` (the Data Production team's); yours live in your scope
under ``/belle/user/<you>/collection/<name>`` (a bare NAME means that), so they
work wherever a collection does: ``gbasf2 -i``, ``gb2_ds_get``, ``gb2_ds_list``
and ``gb2_ds_search collection --list_all_collections '/belle/user/<you>/collection/*'``.
Members are datasets (containers), anyone's; deleting a collection removes only
the collection, never its datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gb2.client.rucio import RucioClient
from gb2.data.datasets import did_type, is_glob, targets
from gb2.data.lfn import name_problem
from gb2.errors import BadInput, Forbidden, NotFound

COLLECTIONS = "collection"


@dataclass
class CollectionState:
    lpn: str
    datasets: list[str]
    changed: list[str]  # the datasets added or removed now

    def as_json(self, action: str) -> dict[str, Any]:
        return {"collection": self.lpn, "action": action, "changed": self.changed, "datasets": self.datasets}


def collection_lpn(name: str, user: str) -> str:
    """``NAME`` -> ``/belle/user/<you>/collection/NAME``; an absolute LPN must lie in your area."""
    text = name.strip().rstrip("/")
    if not text or is_glob(text):
        raise BadInput(f"{name!r}: give one collection name, without wildcards")
    if not text.startswith("/") and "/" in text:
        raise BadInput(f"{name!r}: a collection name is one word (or the LPN of one of your collections)")
    lpn = text if text.startswith("/") else f"/belle/user/{user}/{COLLECTIONS}/{text}"
    problem = name_problem(lpn)
    if problem:
        raise BadInput(f"{lpn}: not a valid collection name ({problem})")
    if not lpn.startswith(f"/belle/user/{user}/"):
        raise Forbidden(f"{lpn}: your collections live in your own area (/belle/user/{user}/{COLLECTIONS}/<name>); "
                       "official ones are made by Data Production")  # fmt: skip
    return lpn


def _datasets(rucio: RucioClient, args: list[str], user: str) -> list[str]:
    """The dataset LPNs the arguments name (globs allowed); each must be a dataset (a container)."""
    found: list[str] = []
    for arg in args:
        for lpn in targets(rucio, arg, user):
            kind = did_type(rucio, lpn)
            if kind != "CONTAINER":
                raise BadInput(f"{lpn} is a {'datablock' if kind == 'DATASET' else 'file'}: a collection holds "
                               "datasets (add the dataset LPN)")  # fmt: skip
            found.append(lpn)
    return list(dict.fromkeys(found))


def members(rucio: RucioClient, lpn: str) -> list[str]:
    did = rucio.did(lpn)
    try:
        return sorted(c["name"] for c in rucio.list_content(did.scope, did.name))
    except NotFound:
        raise NotFound(f"no collection {lpn}") from None


def _require_collection(rucio: RucioClient, lpn: str) -> None:
    kind = did_type(rucio, lpn)
    if kind != "CONTAINER":
        raise BadInput(f"{lpn} is not a collection")
    content = list(rucio.list_content(*rucio.did(lpn)))
    if any(c.get("type") != "CONTAINER" for c in content):
        raise BadInput(f"{lpn} is a dataset, not a collection")


def create(rucio: RucioClient, user: str, name: str, datasets: list[str], description: str | None = None) -> CollectionState:
    lpn = collection_lpn(name, user)
    wanted = _datasets(rucio, datasets, user)
    if lpn in wanted:
        raise BadInput("a collection cannot hold itself")
    did = rucio.did(lpn)
    if rucio.did_exists(did.scope, did.name):
        raise BadInput(f"{lpn} exists already: add datasets with gb2_ds_collection add")
    meta = {"description": description} if description else None
    rucio.add_container(did.scope, did.name, meta=meta)
    if wanted:
        rucio.attach(did.scope, did.name, [rucio.did(d) for d in wanted])
    return CollectionState(lpn, members(rucio, lpn), wanted)


def add(rucio: RucioClient, user: str, name: str, datasets: list[str]) -> CollectionState:
    lpn = collection_lpn(name, user)
    _require_collection(rucio, lpn)
    wanted = _datasets(rucio, datasets, user)
    if lpn in wanted:
        raise BadInput("a collection cannot hold itself")
    before = set(members(rucio, lpn))
    new = [d for d in wanted if d not in before]
    if new:
        did = rucio.did(lpn)
        rucio.attach(did.scope, did.name, [rucio.did(d) for d in new])
    return CollectionState(lpn, members(rucio, lpn), new)


def remove(rucio: RucioClient, user: str, name: str, datasets: list[str]) -> CollectionState:
    lpn = collection_lpn(name, user)
    _require_collection(rucio, lpn)
    before = set(members(rucio, lpn))
    named = [d for arg in datasets for d in targets(rucio, arg, user)]
    missing = [d for d in named if d not in before]
    if missing:
        raise BadInput(f"{missing[0]} is not in {lpn}")
    gone = list(dict.fromkeys(named))
    if gone:
        did = rucio.did(lpn)
        rucio.detach(did.scope, did.name, [rucio.did(d) for d in gone])
    return CollectionState(lpn, members(rucio, lpn), gone)


def delete(rucio: RucioClient, user: str, name: str) -> CollectionState:
    """Erase the collection only (``rucio erase``, not recursive): its datasets stay."""
    lpn = collection_lpn(name, user)
    _require_collection(rucio, lpn)
    held = members(rucio, lpn)
    did = rucio.did(lpn)
    rucio.erase(did.scope, did.name, recursive=False)
    return CollectionState(lpn, [], held)
