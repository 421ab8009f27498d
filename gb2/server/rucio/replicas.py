"""File replicas: deletion and Rucio's replica listing (registration, which creates file
DIDs, is the catalogue's: :meth:`gb2.server.rucio.catalog.Catalog.add_replicas`).

``list_replicas`` streams one record per file, resolving datasets and containers
recursively, in Rucio's shape: ``pfns`` (PFN -> rse, domain, priority, ...),
``rses`` (RSE -> PFNs) and ``states`` (RSE -> replica state).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING

from gb2.server.rucio import rses as rsemod
from gb2.server.rucio.errors import RucioError, access_denied
from gb2.server.rucio.schema import ROOT, TREE_CTE
from gb2.server.rucio.util import now, placeholders, rucio_date
from gb2.server.topology import storage_element

if TYPE_CHECKING:
    from gb2.server.rucio.catalog import Catalog

def delete_replicas(cat: Catalog, account: str | None, rse: str, files: Sequence[dict]) -> list[tuple[str, str]]:
    """Remove replicas (root, or a user for own-scope replicas on TMP storage); returns disk paths to drop."""
    rse_int = cat.require_rse(rse)
    removed = []
    with cat.db.write() as c:
        for f in files:
            scope, name = f.get("scope", ""), f.get("name", "")
            if account not in (None, ROOT):
                cat.require_owner(c, account, scope, "delete replicas")
                if cat.rse_kind(rse) != "TMP":
                    raise access_denied(f"Account {account} can not delete replicas on {rse}")
            row = cat.find(c, scope, name)
            if row is None or c.execute("DELETE FROM rucio_replicas WHERE did_id=? AND rse=?",
                                        (row["id"], rse_int)).rowcount == 0:
                raise RucioError("ReplicaNotFound", f"Replica not found: {scope}:{name} on {rse}")
            removed.append((rse, name))
    cat.remove_files(removed)
    return removed


# -- listing ------------------------------------------------------------------------------

def resolve_inputs(cat: Catalog, dids: Sequence[dict]) -> list[sqlite3.Row]:
    """The DID rows of a replica query; 404 for the first unknown one."""
    if not isinstance(dids, list):
        raise RucioError("InvalidObject", "Problem validating dids : a list of DIDs is required")
    cat.undertake()
    with cat.db.read() as c:
        rows = []
        for did in dids:
            if not isinstance(did, dict):
                raise RucioError("InvalidObject", "Problem validating dids : each DID is an object")
            rows.append(cat.require(c, str(did.get("scope", "")), str(did.get("name", ""))))
        return rows


def _file_rows(cat: Catalog, row: sqlite3.Row) -> Iterator[sqlite3.Row]:
    cols = "d.id, d.scope, d.name, d.bytes, d.md5, d.adler32, r.rse, r.state"
    if row["did_type"] == "FILE":
        yield from cat.stream(f"SELECT {cols} FROM rucio_dids d LEFT JOIN rucio_replicas r ON r.did_id = d.id "
                              "WHERE d.id=? ORDER BY r.rse", (row["id"],))
        return
    yield from cat.stream(
        TREE_CTE + f"SELECT {cols} FROM tree JOIN rucio_dids d ON d.id = tree.id AND d.did_type='FILE' "
        "LEFT JOIN rucio_replicas r ON r.did_id = d.id ORDER BY d.name, d.scope, r.rse", (row["id"],))


def list_replicas(cat: Catalog, rows: Sequence[sqlite3.Row], *, schemes: Sequence[str] | None = None,
                  rse_expression: str | None = None, all_states: bool = False,
                  domain: str | None = None, sort: str | None = None,
                  client_site: str | None = None, unavailable: Collection[str] = ()) -> Iterator[dict]:
    """One record per distinct file below ``rows``, in Rucio's ``list_replicas`` shape.

    Domains as in Rucio: ``wan``, ``lan`` or ``all``; without one ("automatic"),
    wan everywhere plus lan on the RSEs at the client's site (``client_location``).
    Replicas on ``unavailable`` RSEs (flagged down for reading) are left out, as
    Rucio does unless the client asks for ``ignore_availability``.
    """
    allowed = set(rsemod.parse_expression(rse_expression)) if rse_expression else None
    seen: set[int] = set()
    settings, base_url = cat.settings, cat.base_url
    protos = {name: rsemod.protocols(settings, base_url, se)
              for name in cat.rse_ids if (se := storage_element(name)) is not None}
    domains: dict[str, tuple[str, ...]] = {}
    for name in protos:
        se = storage_element(name)
        if domain == "all" or (domain is None and client_site and se is not None and se.site == client_site):
            domains[name] = ("lan", "wan")
        else:
            domains[name] = (domain or "wan",)

    def record(file_rows: list[sqlite3.Row]) -> dict:
        first = file_rows[0]
        replicas = [(cat.rse_names[r["rse"]], r["state"]) for r in file_rows if r["rse"] is not None]
        replicas = [(rse, st) for rse, st in replicas if rse not in unavailable
                    and (allowed is None or rse in allowed) and (all_states or st == "AVAILABLE")]
        if sort == "random":
            random.shuffle(replicas)
        pfns: dict[str, dict] = {}
        by_rse: dict[str, list[str]] = {}
        for dom in ("lan", "wan"):  # lan doors first, as Rucio sorts them
            for rse, _ in replicas:
                if dom not in domains.get(rse, ()):
                    continue
                for proto in protos.get(rse, ()):
                    if not proto.supports(dom) or (schemes and proto.scheme not in schemes):
                        continue
                    url = rsemod.pfn(settings, base_url, rse, proto.scheme, first["name"])
                    pfns[url] = {"rse_id": cat.rse_uuids[rse], "rse": rse, "type": "DISK", "volatile": False,
                                 "domain": dom, "priority": len(pfns) + 1, "client_extract": False}
                    by_rse.setdefault(rse, []).append(url)
        return {"scope": first["scope"], "name": first["name"], "bytes": first["bytes"], "md5": first["md5"],
                "adler32": first["adler32"], "pfns": pfns, "rses": by_rse,
                "states": {rse: st for rse, st in replicas}}

    for row in rows:
        group: list[sqlite3.Row] = []
        for file_row in _file_rows(cat, row):
            if group and group[-1]["id"] != file_row["id"]:
                if group[0]["id"] not in seen:
                    seen.add(group[0]["id"])
                    yield record(group)
                group = []
            group.append(file_row)
        if group and group[0]["id"] not in seen:
            seen.add(group[0]["id"])
            yield record(group)


def metalink(records: Iterator[dict]) -> Iterator[str]:
    """Rucio's Metalink 4 rendering of replica records."""
    from xml.sax.saxutils import escape, quoteattr

    yield '<?xml version="1.0" encoding="UTF-8"?>\n<metalink xmlns="urn:ietf:params:xml:ns:metalink">\n'
    for rec in records:
        yield f" <file name={quoteattr(rec['name'])}>\n"
        yield f"  <identity>{escape(rec['scope'])}:{escape(rec['name'])}</identity>\n"
        if rec["adler32"]:
            yield f'  <hash type="adler32">{rec["adler32"]}</hash>\n'
        if rec["md5"]:
            yield f'  <hash type="md5">{rec["md5"]}</hash>\n'
        yield f"  <size>{rec['bytes']}</size>\n"
        yield f'  <glfn name="/belleii/rucio/{escape(rec["scope"])}:{escape(rec["name"])}"></glfn>\n'
        for url, info in rec["pfns"].items():
            yield (f'  <url location="{info["rse"]}" domain="{info["domain"]}" priority="{info["priority"]}"'
                   f' client_extract="false">{escape(url)}</url>\n')
        yield " </file>\n"
    yield "</metalink>\n"


def dataset_replicas(cat: Catalog, scope: str, name: str) -> list[dict]:
    """Per-RSE completeness of a dataset (what Rucio shows once its abacus daemon ran)."""
    row = cat.lookup(scope, name)
    if row["did_type"] != "DATASET":
        return []
    total = cat.db.execute("SELECT COUNT(*) AS n, COALESCE(SUM(d.bytes),0) AS b FROM rucio_contents c "
                           "JOIN rucio_dids d ON d.id = c.child_id WHERE c.parent_id=?", (row["id"],))[0]
    out = []
    for r in cat.db.execute(
        "SELECT r.rse, COUNT(*) AS n, SUM(r.bytes) AS b, MIN(r.created_at) AS created, MAX(r.updated_at) AS updated "
        "FROM rucio_contents c JOIN rucio_replicas r ON r.did_id = c.child_id "
        "WHERE c.parent_id=? AND r.state='AVAILABLE' GROUP BY r.rse ORDER BY r.rse", (row["id"],)):
        rse = cat.rse_names[r["rse"]]
        out.append({"scope": scope, "name": name, "rse": rse, "rse_id": cat.rse_uuids[rse],
                    "bytes": total["b"], "length": total["n"], "available_bytes": r["b"],
                    "available_length": r["n"], "state": "AVAILABLE" if r["n"] == total["n"] else "UNAVAILABLE",
                    "created_at": rucio_date(r["created"]), "updated_at": rucio_date(r["updated"]),
                    "accessed_at": None})
    return out


def rse_usage(cat: Catalog, rse: str) -> dict:
    rse_int = cat.require_rse(rse)
    row = cat.db.execute("SELECT COUNT(*) AS n, COALESCE(SUM(bytes),0) AS b, MAX(updated_at) AS t "
                         "FROM rucio_replicas WHERE rse=? AND state='AVAILABLE'", (rse_int,))[0]
    return {"rse_id": cat.rse_uuids[rse], "source": "rucio", "used": row["b"], "free": None,
            "total": row["b"], "files": row["n"], "updated_at": rucio_date(row["t"] or now()), "rse": rse}


def storage_usage(rucio_usage: dict, capacity: int) -> dict:
    """The ``storage`` source of an RSE's usage, as a real Rucio gets it from the storage: its
    capacity (the server's setting) against what is stored on it."""
    used = int(rucio_usage["used"])
    return {**rucio_usage, "source": "storage", "used": used, "total": capacity, "free": max(0, capacity - used)}


def files_of(cat: Catalog, did_id: int) -> list[tuple[int, str, int]]:
    """(id, name, bytes) of every file below a DID (itself if a file)."""
    return [(r["id"], r["name"], r["bytes"]) for r in cat.db.execute(
        TREE_CTE + "SELECT d.id, d.name, d.bytes FROM tree JOIN rucio_dids d ON d.id = tree.id "
        "WHERE d.did_type='FILE' ORDER BY d.name", (did_id,))]


def replica_map(cat: Catalog, file_ids: Sequence[int]) -> dict[int, set[str]]:
    """File id -> RSEs with an AVAILABLE replica."""
    out: dict[int, set[str]] = {}
    ids = list(file_ids)
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        for r in cat.db.execute(f"SELECT did_id, rse FROM rucio_replicas WHERE state='AVAILABLE' AND "
                                f"did_id IN ({placeholders(len(part))})", tuple(part)):
            out.setdefault(r["did_id"], set()).add(cat.rse_names[r["rse"]])
    return out
