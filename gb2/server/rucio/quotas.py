"""Account limits (quotas) and account usage, as Rucio keeps them per RSE.

Rucio counts against an account the replicas its replication rules lock: every
file below a rule's DID, on the RSEs the rule's expression names, once per file
and RSE. Real Rucio updates those counters in its ``abacus-account`` daemon a few
minutes after the locks change; here they are computed when asked, from the rules
and the available replicas. Limits are bytes per account and RSE (``-1``:
unlimited, shown as infinity as Rucio does); every configured user starts with
``user_quota_bytes`` on each TMP storage element.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from gb2.server.rucio import rses as rsemod
from gb2.server.rucio.errors import RucioError, access_denied
from gb2.server.rucio.schema import ROOT, TREE_CTE
from gb2.server.rucio.util import chunks, now, placeholders

if TYPE_CHECKING:
    from gb2.server.rucio.catalog import Catalog

UNLIMITED = -1


def seed(cat: Catalog, c: sqlite3.Connection) -> None:
    """Each configured user's default limit on every TMP storage element (kept if set before)."""
    ts = now()
    tmp = [rse_id for name, rse_id in cat.rse_ids.items() if cat.rse_kind(name) == "TMP"]
    c.executemany("INSERT OR IGNORE INTO rucio_account_limits VALUES (?,?,?,?,?)",
                  [(u.username, rse_id, cat.settings.user_quota_bytes, ts, ts)
                   for u in cat.settings.users for rse_id in tmp])


def _limit_value(stored: int) -> float | int:
    return float("inf") if stored == UNLIMITED else stored


def _require_account(cat: Catalog, account: str) -> None:
    if account not in cat.accounts():
        raise RucioError("AccountNotFound", f"Account {account} does not exist")


def local_limits(cat: Catalog, account: str, rse: str | None = None) -> dict[str, Any]:
    """``GET /accounts/<a>/limits[/local][/<rse>]``: RSE -> bytes (one RSE: ``None`` if unset)."""
    _require_account(cat, account)
    if rse is not None:
        rse_id = cat.require_rse(rse)
        rows = cat.db.execute("SELECT bytes FROM rucio_account_limits WHERE account=? AND rse=?", (account, rse_id))
        return {rse: _limit_value(rows[0]["bytes"]) if rows else None}
    return {cat.rse_names[r["rse"]]: _limit_value(r["bytes"]) for r in cat.db.execute(
        "SELECT rse, bytes FROM rucio_account_limits WHERE account=? ORDER BY rse", (account,))}


def set_local_limit(cat: Catalog, issuer: str | None, account: str, rse: str, value: Any) -> None:
    """``POST /accountlimits/local/<a>/<rse>`` (or ``/accounts/<a>/limits/local/<rse>``): root only."""
    rse_id = cat.require_rse(rse)
    if issuer not in (None, ROOT):
        raise access_denied(f"Account {issuer} can not set account limits.")
    _require_account(cat, account)
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise RucioError("InvalidObject", "Problem validating bytes : a number is required") from exc
    stored = UNLIMITED if number in (float("inf"), -1) else int(number)
    ts = now()
    with cat.db.write() as c:
        c.execute("INSERT OR REPLACE INTO rucio_account_limits VALUES (?,?,?,COALESCE((SELECT created_at FROM "
                  "rucio_account_limits WHERE account=? AND rse=?), ?),?)", (account, rse_id, stored, account, rse_id, ts, ts))


def delete_local_limit(cat: Catalog, issuer: str | None, account: str, rse: str) -> None:
    rse_id = cat.require_rse(rse)
    if issuer not in (None, ROOT):
        raise access_denied(f"Account {issuer} can not delete account limits.")
    _require_account(cat, account)
    with cat.db.write() as c:
        c.execute("DELETE FROM rucio_account_limits WHERE account=? AND rse=?", (account, rse_id))


def _locked(cat: Catalog, account: str, limited: set[int] | None) -> dict[int, tuple[int, int]]:
    """RSE id -> (bytes, files) of the replicas the account's rules lock; ``limited``: the RSEs
    where the account has a limit (Rucio places no lock elsewhere), None for root."""
    targets: dict[str, list[int]] = {}
    pairs: dict[tuple[int, int], int] = {}
    for rule in cat.db.execute("SELECT did_id, rse_expression FROM rucio_rules WHERE account=?", (account,)):
        expression = rule["rse_expression"]
        if expression not in targets:
            try:
                targets[expression] = [cat.rse_ids[n] for n in rsemod.parse_expression(expression)
                                       if n in cat.rse_ids and (limited is None or cat.rse_ids[n] in limited)]
            except RucioError:
                targets[expression] = []
        for part in chunks(targets[expression]):
            for row in cat.db.execute(
                TREE_CTE + "SELECT r.did_id, r.rse, r.bytes FROM tree JOIN rucio_replicas r ON r.did_id = tree.id "
                f"WHERE r.state='AVAILABLE' AND r.rse IN ({placeholders(len(part))})", (rule["did_id"], *part)):
                pairs[(row["did_id"], row["rse"])] = row["bytes"]
    out: dict[int, tuple[int, int]] = {}
    for (_, rse_id), size in pairs.items():
        total, files = out.get(rse_id, (0, 0))
        out[rse_id] = (total + size, files + 1)
    return out


def local_usage(cat: Catalog, issuer: str | None, account: str, rse: str | None = None) -> list[dict[str, Any]]:
    """``GET /accounts/<a>/usage/local[/<rse>]``: usage with limit and remaining bytes per RSE
    (RSEs with a limit or with usage), for the account itself or root."""
    rse_id = cat.require_rse(rse) if rse is not None else None
    if issuer not in (None, ROOT, account):
        raise access_denied(f"Account {issuer} can not list account usage.")
    _require_account(cat, account)
    limits = {r["rse"]: r["bytes"] for r in cat.db.execute(
        "SELECT rse, bytes FROM rucio_account_limits WHERE account=?", (account,))}
    used = _locked(cat, account, None if account == ROOT else set(limits))
    out = []
    for rid in sorted(set(limits) | set(used)):
        if rse_id is not None and rid != rse_id:
            continue
        size, files = used.get(rid, (0, 0))
        limit = _limit_value(limits[rid]) if rid in limits else 0
        name = cat.rse_names[rid]
        out.append({"rse_id": cat.rse_uuids[name], "rse": name, "bytes": size, "files": files,
                    "bytes_limit": limit, "bytes_remaining": limit - size})
    return out
