"""What the catalogue knows about its storage elements beyond their names: whether each
is up (Rucio's ``availability_read/write/delete``) and how far apart they are
(Rucio's RSE distances, lower is closer).

Both start from the sample grid (:mod:`gb2.server.topology`) and are kept in the
database, so the administrator can change them as on a real Rucio
(``PUT /rses/<rse>``, ``POST|PUT|DELETE /rses/<src>/distances/<dest>``).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from gb2.server.rucio.errors import RucioError, access_denied
from gb2.server.rucio.schema import ROOT
from gb2.server.rucio.util import now, rucio_date
from gb2.server.topology import STORAGE_ELEMENTS, distance

if TYPE_CHECKING:
    from gb2.server.rucio.catalog import Catalog

FLAGS = ("availability_read", "availability_write", "availability_delete")
#: What ``PUT /rses/<rse>`` may change here (Rucio accepts more properties; these are the ones gb2 models).
MUTABLE = frozenset(FLAGS) | {"availability"}


def seed(cat: Catalog, c: sqlite3.Connection) -> None:
    """Every RSE up, distances from the sample grid (existing rows are kept)."""
    ts = now()
    c.executemany("INSERT OR IGNORE INTO rucio_rse_availability (rse, updated_at) VALUES (?,?)",
                  [(rse_id, ts) for rse_id in cat.rse_ids.values()])
    rows = [(cat.rse_ids[a.name], cat.rse_ids[b.name], distance(a, b), ts, ts)
            for a in STORAGE_ELEMENTS for b in STORAGE_ELEMENTS
            if a.name != b.name and a.name in cat.rse_ids and b.name in cat.rse_ids]
    c.executemany("INSERT OR IGNORE INTO rucio_distances VALUES (?,?,?,?,?)", rows)


def availability(cat: Catalog) -> dict[str, dict[str, bool]]:
    """RSE name -> its three availability flags."""
    out = {name: dict.fromkeys(FLAGS, True) for name in cat.rse_ids}
    for row in cat.db.execute("SELECT * FROM rucio_rse_availability"):
        name = cat.rse_names.get(row["rse"])
        if name is not None:
            out[name] = {flag: bool(row[flag]) for flag in FLAGS}
    return out


def unreadable(cat: Catalog) -> set[str]:
    """RSEs flagged down for reading: their replicas are left out of listings."""
    return {name for name, flags in availability(cat).items() if not flags["availability_read"]}


def update_rse(cat: Catalog, account: str | None, rse: str, parameters: dict[str, Any]) -> None:
    """``PUT /rses/<rse>``: the administrator changes availability flags."""
    rse_id = cat.require_rse(rse)
    if account not in (None, ROOT):
        raise access_denied(f"Account {account} can not update RSE {rse}")
    unknown = set(parameters) - MUTABLE
    if unknown:
        raise RucioError("InputValidationError", f"The key '{sorted(unknown)[0]}' does not exist for RSE properties.")
    values = {k: bool(parameters[k]) for k in FLAGS if k in parameters}
    if "availability" in parameters:  # Rucio's integer form: read 4, write 2, delete 1
        bits = int(parameters["availability"])
        values = {"availability_read": bool(bits & 4), "availability_write": bool(bits & 2),
                  "availability_delete": bool(bits & 1), **values}
    if not values:
        return
    with cat.db.write() as c:
        sets = ", ".join(f"{k}=?" for k in values)
        c.execute(f"UPDATE rucio_rse_availability SET {sets}, updated_at=? WHERE rse=?",
                  (*(int(v) for v in values.values()), now(), rse_id))


def get_distance(cat: Catalog, source: str, dest: str) -> list[dict[str, Any]]:
    """``GET /rses/<src>/distances/<dest>``: a list with the one distance, or empty."""
    src_id, dest_id = cat.require_rse(source), cat.require_rse(dest)
    rows = cat.db.execute("SELECT * FROM rucio_distances WHERE src=? AND dest=?", (src_id, dest_id))
    return [{"src_rse_id": cat.rse_uuids[source], "dest_rse_id": cat.rse_uuids[dest], "distance": r["distance"],
             "ranking": r["distance"], "created_at": rucio_date(r["created_at"]),
             "updated_at": rucio_date(r["updated_at"])} for r in rows]


def set_distance(cat: Catalog, account: str | None, source: str, dest: str, value: Any, *,
                 create: bool, bidirectional: bool = False) -> None:
    """Add (``POST``) or change (``PUT``) a distance; root only, as in Rucio's generic policy."""
    src_id, dest_id = cat.require_rse(source), cat.require_rse(dest)
    if account not in (None, ROOT):
        raise access_denied(f"Account {account} can not {'add' if create else 'update'} RSE distances")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise RucioError("InvalidObject", "Problem validating distance : an integer is required") from exc
    pairs = [(src_id, dest_id)] + ([(dest_id, src_id)] if bidirectional else [])
    ts = now()
    with cat.db.write() as c:
        for a, b in pairs:
            exists = c.execute("SELECT 1 FROM rucio_distances WHERE src=? AND dest=?", (a, b)).fetchone()
            if create and exists:
                raise RucioError("Duplicate", f"Distance from {source} to {dest} already exists!")
            if not create and not exists:
                raise RucioError("DistanceNotFound", f"Distance from {source} to {dest} not found")
            c.execute("INSERT OR REPLACE INTO rucio_distances VALUES (?,?,?,COALESCE((SELECT created_at FROM "
                      "rucio_distances WHERE src=? AND dest=?), ?),?)", (a, b, number, a, b, ts, ts))


def delete_distance(cat: Catalog, account: str | None, source: str, dest: str) -> None:
    src_id, dest_id = cat.require_rse(source), cat.require_rse(dest)
    if account not in (None, ROOT):
        raise access_denied(f"Account {account} can not delete RSE distances")
    with cat.db.write() as c:
        c.execute("DELETE FROM rucio_distances WHERE src=? AND dest=?", (src_id, dest_id))
