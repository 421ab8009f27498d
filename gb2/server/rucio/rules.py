"""Replication rules, evaluated synchronously.

A rule asks for ``copies`` replicas of every file of a DID on RSEs matching an
expression. Files already there count at once (state ``OK``, as Rucio reports
for existing replicas); missing copies are made right away by copying the file
between the storage folders and registering the new replica, so ``gb2_ds_rep``
works without transfer daemons. A file with no source replica leaves the rule
``STUCK``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gb2.server.rucio import rses as rsemod
from gb2.server.rucio.errors import RucioError, access_denied
from gb2.server.rucio.replicas import files_of, replica_map
from gb2.server.rucio.schema import ROOT
from gb2.server.rucio.util import now, rucio_date

if TYPE_CHECKING:
    from gb2.server.rucio.catalog import Catalog


def add_rules(cat: Catalog, account: str | None, body: dict[str, Any]) -> list[str]:
    """``POST /rules/``: one rule per DID; returns the new rule ids."""
    dids = body.get("dids")
    if not isinstance(dids, list) or not dids:
        raise RucioError("InvalidObject", "Problem validating rule : dids is required")
    try:
        copies = int(body.get("copies", 1))
    except (TypeError, ValueError) as exc:
        raise RucioError("InvalidObject", "Problem validating rule : copies must be an integer") from exc
    expression = body.get("rse_expression")
    if not expression or copies < 1:
        raise RucioError("InvalidObject", "Problem validating rule : rse_expression and copies >= 1 are required")
    owner = body.get("account") or account or ROOT
    if account not in (None, ROOT) and (owner != account or body.get("locked")):
        raise access_denied(f"Account {account} can not add replication rule for account {owner}")
    targets = rsemod.parse_expression(expression)
    if account not in (None, ROOT):
        # Users have account limits only on TMP storage, and Rucio leaves RSEs without a
        # limit out of a rule's choice: an expression with no TMP RSE cannot be satisfied.
        targets = [t for t in targets if cat.rse_kind(t) == "TMP"]
        if not targets:
            raise access_denied(f"Account {account} can not add replication rules on {expression}: users may replicate only to TMP storage")
    if copies > len(targets):
        raise RucioError("InsufficientTargetRSEs", "There are not enough target RSEs to fulfil the request at this time.", 409)
    sources = set(rsemod.parse_expression(body["source_replica_expression"])) if body.get("source_replica_expression") else None
    ids = []
    for did in dids:
        ids.append(_add_one(cat, did, owner, copies, expression, targets, sources, body))
    return ids


def _add_one(cat: Catalog, did: dict, owner: str, copies: int, expression: str, targets: list[str],
             sources: set[str] | None, body: dict[str, Any]) -> str:
    row = cat.lookup(str(did.get("scope", "")), str(did.get("name", "")))
    if cat.db.execute("SELECT 1 FROM rucio_rules WHERE did_id=? AND account=? AND rse_expression=? AND copies=?",
                      (row["id"], owner, expression, copies)):
        raise RucioError("DuplicateRule", f"A duplicate rule for this account, did, rse_expression, copies already exists: {row['scope']}:{row['name']}")
    files = files_of(cat, row["id"])
    have = replica_map(cat, [f[0] for f in files])
    pick = _choose(targets, copies, have, grouping=str(body.get("grouping") or "DATASET"))
    copied, stuck = _copy_missing(cat, files, have, pick, sources)
    ts = now()
    lifetime = body.get("lifetime")
    rule_id = uuid.uuid4().hex
    ok = len(files) * copies - stuck
    with cat.db.write() as c:
        for file_id, rse, size in copied:
            c.execute("INSERT OR IGNORE INTO rucio_replicas VALUES (?,?,?,?,?,?)",
                      (file_id, cat.rse_ids[rse], "AVAILABLE", size, ts, ts))
        c.execute(
            "INSERT INTO rucio_rules (id, did_id, account, copies, rse_expression, grouping, state, locks_ok_cnt, "
            "locks_replicating_cnt, locks_stuck_cnt, error, activity, comments, purge_replicas, expires_at, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rule_id, row["id"], owner, copies, expression, str(body.get("grouping") or "DATASET"),
             "STUCK" if stuck else "OK", ok, 0, stuck, "No source replica" if stuck else None,
             body.get("activity") or "User Subscriptions", body.get("comment"),
             int(bool(body.get("purge_replicas"))), ts + float(lifetime) if lifetime else None, ts, ts),
        )
    return rule_id


def _choose(targets: list[str], copies: int, have: dict[int, set[str]], grouping: str) -> Callable[[set[str]], list[str]]:
    """How to pick a file's target RSEs: one set for the whole DID (DATASET/ALL grouping),
    preferring RSEs that already hold most of it; per file with grouping NONE."""
    counts = {t: sum(1 for rses in have.values() if t in rses) for t in targets}
    if grouping.upper() == "NONE":
        return lambda holders: sorted(targets, key=lambda t: (t not in holders, -counts[t], t))[:copies]
    ranked = sorted(targets, key=lambda t: (-counts[t], t))[:copies]
    return lambda holders: ranked


def _copy_missing(cat: Catalog, files: Sequence[tuple[int, str, int]], have: dict[int, set[str]],
                  pick: Callable[[set[str]], list[str]], sources: set[str] | None) -> tuple[list[tuple[int, str, int]], int]:
    copied: list[tuple[int, str, int]] = []
    stuck = 0
    for file_id, name, size in files:
        holders = have.get(file_id, set())
        for rse in pick(holders):
            if rse in holders:
                continue
            source = next((s for s in sorted(holders) if sources is None or s in sources), None)
            if source is None or not _copy(cat, source, rse, name):
                stuck += 1
                continue
            copied.append((file_id, rse, size))
    return copied, stuck


def _copy(cat: Catalog, source: str, target: str, name: str) -> bool:
    src, dst = cat.physical_path(source, name), cat.physical_path(target, name)
    if not src.is_file():
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.part-{uuid.uuid4().hex}")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def render(row: sqlite3.Row) -> dict:
    """A rule as Rucio's ``GET /rules/<id>`` shows it."""
    return {
        "account": row["account"], "expires_at": rucio_date(row["expires_at"]), "grouping": row["grouping"],
        "comments": row["comments"], "scope": row["scope"], "weight": None, "notification": "NO",
        "child_rule_id": None, "name": row["name"], "locked": False, "stuck_at": None, "eol_at": None,
        "did_type": row["did_type"], "locks_ok_cnt": row["locks_ok_cnt"], "purge_replicas": bool(row["purge_replicas"]),
        "split_container": False, "state": row["state"], "locks_replicating_cnt": row["locks_replicating_cnt"],
        "ignore_availability": False, "meta": None, "error": row["error"], "locks_stuck_cnt": row["locks_stuck_cnt"],
        "ignore_account_limit": False, "deleted_at": None, "subscription_id": None,
        "rse_expression": row["rse_expression"], "source_replica_expression": None, "priority": 3,
        "created_at": rucio_date(row["created_at"]), "id": row["id"], "copies": row["copies"],
        "activity": row["activity"], "updated_at": rucio_date(row["updated_at"]), "bytes": None,
    }


_SELECT = ("SELECT r.*, d.scope, d.name, d.did_type FROM rucio_rules r JOIN rucio_dids d ON d.id = r.did_id ")


def get_rule(cat: Catalog, rule_id: str) -> dict:
    cat.undertake()
    rows = cat.db.execute(_SELECT + "WHERE r.id=?", (rule_id,))
    if not rows:
        raise RucioError("RuleNotFound", f"No replication rule found with ID '{rule_id}'")
    return render(rows[0])


def did_rules(cat: Catalog, scope: str, name: str) -> list[dict]:
    row = cat.lookup(scope, name)
    return [render(r) for r in cat.db.execute(_SELECT + "WHERE r.did_id=? ORDER BY r.created_at", (row["id"],))]


def delete_rule(cat: Catalog, account: str | None, rule_id: str) -> None:
    """Remove a rule (its owner or root); the replicas it made stay, as with Rucio's default."""
    with cat.db.write() as c:
        row = c.execute("SELECT account FROM rucio_rules WHERE id=?", (rule_id,)).fetchone()
        if row is None:
            raise RucioError("RuleNotFound", f"No replication rule found with ID '{rule_id}'")
        if account not in (None, ROOT, row["account"]):
            raise access_denied(f"Account {account} can not remove this replication rule.")
        c.execute("DELETE FROM rucio_rules WHERE id=?", (rule_id,))
