"""The embedded Rucio catalogue: DIDs, their contents and metadata, replicas, rules.

One instance per server (``state.services["rucio"]``), used by the REST routes,
the seeding and the job engine. Methods taking ``account`` check Rucio's
generic-policy permissions for it (``root`` may do anything, an account may
write only in scopes it owns, anyone may read); ``account=None`` is the server
itself acting with root's rights.

Deleting follows Rucio: a DID gets a lifetime (``rucio erase`` sets one through
metadata) and the undertaker removes it once expired, keeping a record of it
(Rucio's ``deleted_dids``). As on a real Rucio 41 server (checked by running its
undertaker), a deleted dataset or container name may be created again; a deleted
file name is refused here (not checked against a real server). gbasf2's rule that
project names are never reused is gb2's to enforce, from the job database.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gb2.data.checksum import normalise_adler32
from gb2.data.lfn import name_problem, scope_for
from gb2.server.rucio import meta as didmeta
from gb2.server.rucio import quotas, rse_status
from gb2.server.rucio.errors import RucioError, access_denied, did_not_found
from gb2.server.rucio.schema import DID_TYPES, ROOT, SCHEMA, TREE_CTE
from gb2.server.rucio.util import chunks, now, placeholders, rucio_date, stream_rows
from gb2.server.state import ServerState
from gb2.server.storage import se_path
from gb2.server.topology import STORAGE_ELEMENTS, storage_element

#: Scopes of official and shared data, owned by root (Rucio's Belle II scope names).
OFFICIAL_SCOPES = ("mc", "mc_tmp", "data", "data_tmp", "raw", "hraw", "collection", "group",
                   "user", "test", "other", "mock")


class Catalog:
    """Server-side Python API of the Rucio catalogue."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.db = state.db
        self.settings = state.settings
        self.rse_ids: dict[str, int] = {}
        self.rse_names: dict[int, str] = {}
        self.rse_uuids: dict[str, str] = {}
        self._undertake_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.state.base_url

    # -- setup ------------------------------------------------------------------------
    def setup(self) -> None:
        """Tables, RSEs, accounts' scopes: idempotent, run on every start."""
        self.db.apply_schema(SCHEMA)
        ts = now()
        with self.db.write() as c:
            c.execute("INSERT OR IGNORE INTO rucio_state VALUES ('created_at', ?)", (str(ts),))
            for se in STORAGE_ELEMENTS:
                c.execute("INSERT OR IGNORE INTO rucio_rses (rse, rse_id, created_at) VALUES (?,?,?)",
                          (se.name, uuid.uuid4().hex, ts))
            for scope in OFFICIAL_SCOPES:
                c.execute("INSERT OR IGNORE INTO rucio_scopes VALUES (?,?,?)", (scope, ROOT, ts))
            for user in self.settings.users:
                c.execute("INSERT OR IGNORE INTO rucio_scopes VALUES (?,?,?)",
                          (f"user.{user.username}", user.username, ts))
            for row in c.execute("SELECT id, rse, rse_id FROM rucio_rses"):
                self.rse_ids[row["rse"]] = row["id"]
                self.rse_names[row["id"]] = row["rse"]
                self.rse_uuids[row["rse"]] = row["rse_id"]
            rse_status.seed(self, c)
            quotas.seed(self, c)

    def state_value(self, key: str) -> str | None:
        rows = self.db.execute("SELECT value FROM rucio_state WHERE key=?", (key,))
        return rows[0]["value"] if rows else None

    def set_state_value(self, key: str, value: str) -> None:
        with self.db.write() as c:
            c.execute("INSERT OR REPLACE INTO rucio_state VALUES (?,?)", (key, value))

    def stream(self, sql: str, params: Iterable[Any] = ()) -> Iterator[sqlite3.Row]:
        return stream_rows(self.db.path, sql, params)

    # -- accounts, scopes, permissions -------------------------------------------------
    def accounts(self) -> list[str]:
        return [ROOT] + [u.username for u in self.settings.users]

    def account_info(self, account: str) -> dict:
        if account not in self.accounts():
            raise RucioError("AccountNotFound", f"Account with ID '{account}' cannot be found")
        created = rucio_date(float(self.state_value("created_at") or now()))
        return {
            "status": "ACTIVE", "suspended_at": None, "created_at": created, "account": account,
            "account_type": "SERVICE" if account == ROOT else "USER", "email": None,
            "deleted_at": None, "updated_at": created,
        }

    def scopes(self) -> list[str]:
        return [r["scope"] for r in self.db.execute("SELECT scope FROM rucio_scopes ORDER BY scope")]

    def scope_owner(self, c: sqlite3.Connection, scope: str) -> str:
        row = c.execute("SELECT account FROM rucio_scopes WHERE scope=?", (scope,)).fetchone()
        if row is None:
            raise RucioError("ScopeNotFound", f"Scope '{scope}' not found")
        return row["account"]

    def require_owner(self, c: sqlite3.Connection, account: str | None, scope: str, action: str) -> None:
        owner = self.scope_owner(c, scope)
        if account is None or account in (ROOT, owner):
            return
        raise access_denied(f"Account {account} can not {action} in scope {scope}")

    def check_name(self, c: sqlite3.Connection, account: str | None, scope: str, name: str) -> None:
        """Belle II names are absolute paths; a user's names must lie in the user's scope."""
        problem = name_problem(name)
        if problem:
            shown = name.encode("unicode_escape").decode() if isinstance(name, str) else repr(name)
            raise RucioError("InvalidObject",
                             f"Problem validating name : '{shown}' is not a valid Belle II DID name ({problem})")
        if account not in (None, ROOT):
            scopes = {r["scope"] for r in c.execute("SELECT scope FROM rucio_scopes")}
            if scope_for(name, scopes) != scope:
                raise RucioError("InvalidObject", f"DID name {name} does not belong to scope {scope}")

    # -- RSEs -------------------------------------------------------------------------
    def require_rse(self, rse: str) -> int:
        if rse not in self.rse_ids:
            raise RucioError("RSENotFound", f"RSE '{rse}' cannot be found")
        return self.rse_ids[rse]

    def rse_kind(self, rse: str) -> str:
        se = storage_element(rse)
        return se.kind if se else "DATA"

    # -- DIDs -------------------------------------------------------------------------
    def find(self, c: sqlite3.Connection, scope: str, name: str) -> sqlite3.Row | None:
        return c.execute("SELECT * FROM rucio_dids WHERE scope=? AND name=?", (scope, name)).fetchone()

    def require(self, c: sqlite3.Connection, scope: str, name: str) -> sqlite3.Row:
        row = self.find(c, scope, name)
        if row is None:
            raise did_not_found(scope, name)
        return row

    def lookup(self, scope: str, name: str) -> sqlite3.Row:
        self.undertake()
        with self.db.read() as c:
            return self.require(c, scope, name)

    def is_tombstoned(self, c: sqlite3.Connection, scope: str, name: str) -> bool:
        return c.execute("SELECT 1 FROM rucio_deleted_dids WHERE scope=? AND name=?",
                         (scope, name)).fetchone() is not None

    def did_summary(self, scope: str, name: str, dynamic: bool = False) -> dict:
        """``GET /dids/<scope>/<name>``: sizes of collections only with ``dynamic``."""
        row = self.lookup(scope, name)
        if row["did_type"] == "FILE":
            return {"scope": scope, "name": name, "type": "FILE", "account": row["account"],
                    "bytes": row["bytes"], "length": 1, "md5": row["md5"], "adler32": row["adler32"]}
        length, size = row["length"], row["bytes"]
        if dynamic:
            length, size = self.collection_size(row["id"])
        return {"scope": scope, "name": name, "type": row["did_type"], "account": row["account"],
                "open": bool(row["is_open"]), "monotonic": bool(row["monotonic"]),
                "expired_at": rucio_date(row["expired_at"]), "length": length, "bytes": size}

    def collection_size(self, did_id: int) -> tuple[int, int]:
        row = self.db.execute(
            TREE_CTE + "SELECT COUNT(*) AS n, COALESCE(SUM(d.bytes), 0) AS b FROM tree "
            "JOIN rucio_dids d ON d.id = tree.id WHERE d.did_type = 'FILE'", (did_id,))[0]
        return row["n"], row["b"]

    def add_did(self, account: str | None, scope: str, name: str, did_type: str, *,
                meta: dict | None = None, lifetime: float | None = None,
                statuses: dict | None = None, dids: Sequence[dict] | None = None,
                rse: str | None = None) -> None:
        """Create a DATASET or CONTAINER (Rucio's ``POST /dids/<scope>/<name>``)."""
        kind = DID_TYPES.get(str(did_type).upper())
        if kind is None:
            raise RucioError("InvalidObject", f"Problem validating did_type : {did_type!r} is not a DID type")
        if kind == "FILE":
            raise RucioError("UnsupportedOperation", "Only collection (dataset/container) can be registered.")
        self.undertake()
        with self.db.write() as c:
            self.require_owner(c, account, scope, "add data identifiers")
            self.check_name(c, account, scope, name)
            if self.find(c, scope, name) is not None:
                raise RucioError("DataIdentifierAlreadyExists", "Data Identifier already exists!")
            ts = now()
            expired = ts + float(lifetime) if lifetime is not None else None
            monotonic = bool((statuses or {}).get("monotonic", False))
            c.execute(
                "INSERT INTO rucio_dids (scope, name, did_type, account, monotonic, expired_at, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (scope, name, kind, account or ROOT, int(monotonic), expired, ts, ts),
            )
            if meta:
                didmeta.apply(c, self.require(c, scope, name), meta)
            if dids:
                self._attach(c, account, {"scope": scope, "name": name, "dids": list(dids), "rse": rse},
                             ignore_duplicate=False)

    def set_status(self, account: str | None, scope: str, name: str, is_open: bool) -> None:
        """Close (or, as root, reopen) a collection; closing freezes its length and size."""
        with self.db.write() as c:
            row = self.require(c, scope, name)
            self.require_owner(c, account, scope, "set the status of data identifiers")
            if row["did_type"] == "FILE":
                raise RucioError("UnsupportedOperation", f"The status of a file cannot be changed: {scope}:{name}")
            if is_open and account not in (None, ROOT):
                raise access_denied(f"Account {account} can not reopen {scope}:{name}")
            length, size = (None, None) if is_open else self._sizes(c, row["id"])
            c.execute("UPDATE rucio_dids SET is_open=?, length=?, bytes=?, updated_at=? WHERE id=?",
                      (int(is_open), length, size, now(), row["id"]))

    def _sizes(self, c: sqlite3.Connection, did_id: int) -> tuple[int, int]:
        row = c.execute(TREE_CTE + "SELECT COUNT(*) AS n, COALESCE(SUM(d.bytes), 0) AS b FROM tree "
                        "JOIN rucio_dids d ON d.id = tree.id WHERE d.did_type = 'FILE'", (did_id,)).fetchone()
        return row["n"], row["b"]

    # -- contents ---------------------------------------------------------------------
    def attach(self, account: str | None, attachments: Sequence[dict], *, ignore_duplicate: bool = False) -> None:
        """Attach DIDs to collections, all or nothing (Rucio's ``attach_dids_to_dids``)."""
        self.undertake()
        with self.db.write() as c:
            for attachment in attachments:
                self._attach(c, account, attachment, ignore_duplicate=ignore_duplicate)

    def _attach(self, c: sqlite3.Connection, account: str | None, attachment: dict, *, ignore_duplicate: bool) -> None:
        scope, name = attachment.get("scope"), attachment.get("name")
        if not scope or not name:
            raise RucioError("InvalidObject", "Problem validating attachment : scope and name are required")
        parent = self.require(c, scope, name)
        self.require_owner(c, account, scope, "attach data identifiers")
        if parent["did_type"] == "FILE":
            raise RucioError("UnsupportedOperation", f"Data identifier '{scope}:{name}' is a file")
        if not parent["is_open"]:
            raise RucioError("UnsupportedOperation", f"Data identifier '{scope}:{name}' is closed")
        children = list(attachment.get("dids") or [])
        rse = attachment.get("rse")
        if rse and parent["did_type"] == "DATASET":
            register_missing(self, c, account, rse, children)
        rows = self._children_rows(c, children)
        self._check_children(c, parent, rows)
        existing: set[int] = set()
        for part in chunks([r["id"] for r in rows]):
            existing.update(r["child_id"] for r in c.execute(
                f"SELECT child_id FROM rucio_contents WHERE parent_id=? AND child_id IN ({placeholders(len(part))})",
                (parent["id"], *part)))
        if existing and not ignore_duplicate:
            dup = next(r for r in rows if r["id"] in existing)
            if parent["did_type"] == "DATASET":
                raise RucioError("FileAlreadyExists", f"The file {dup['scope']}:{dup['name']} is already attached to {scope}:{name}")
            raise RucioError("DuplicateContent", f"The data identifier {dup['scope']}:{dup['name']} is already attached to {scope}:{name}")
        ts = now()
        c.executemany("INSERT OR IGNORE INTO rucio_contents VALUES (?,?,?)",
                      [(parent["id"], r["id"], ts) for r in rows if r["id"] not in existing])
        c.execute("UPDATE rucio_dids SET updated_at=? WHERE id=?", (ts, parent["id"]))

    def _children_rows(self, c: sqlite3.Connection, children: Sequence[dict]) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = []
        for child in children:
            if not isinstance(child, dict) or "scope" not in child or "name" not in child:
                raise RucioError("InvalidObject", "Problem validating dids : each DID needs scope and name")
            rows.append(self.require(c, child["scope"], child["name"]))
        return rows

    def _check_children(self, c: sqlite3.Connection, parent: sqlite3.Row, rows: list[sqlite3.Row]) -> None:
        ident = f"{parent['scope']}:{parent['name']}"
        if parent["did_type"] == "DATASET":
            for r in rows:
                if r["did_type"] != "FILE":
                    raise RucioError("UnsupportedOperation", f"Only files can be attached to dataset {ident}; {r['scope']}:{r['name']} is a {r['did_type']}")
            return
        kinds = {r["did_type"] for r in rows}
        if "FILE" in kinds:
            raise RucioError("UnsupportedOperation", f"Files cannot be attached to container {ident}")
        old = c.execute("SELECT d.did_type FROM rucio_contents c JOIN rucio_dids d ON d.id = c.child_id "
                        "WHERE c.parent_id=? LIMIT 1", (parent["id"],)).fetchone()
        if old is not None:
            kinds.add(old["did_type"])
        if len(kinds) > 1:
            raise RucioError("UnsupportedOperation", f"Mixed collection is not allowed: {ident} would hold datasets and containers")
        for r in rows:
            if r["id"] == parent["id"]:
                raise RucioError("UnsupportedOperation", "Self-append is not valid!")
            if r["did_type"] == "CONTAINER":
                loop = c.execute(TREE_CTE + "SELECT 1 FROM tree WHERE id=?", (r["id"], parent["id"])).fetchone()
                if loop:
                    raise RucioError("UnsupportedOperation", f"Circular attachment detected: {r['scope']}:{r['name']} contains {ident}")

    def detach(self, account: str | None, scope: str, name: str, dids: Sequence[dict]) -> None:
        with self.db.write() as c:
            parent = self.require(c, scope, name)
            self.require_owner(c, account, scope, "detach data identifiers")
            for child in dids:
                row = self.find(c, child.get("scope", ""), child.get("name", ""))
                gone = row is None or c.execute(
                    "DELETE FROM rucio_contents WHERE parent_id=? AND child_id=?", (parent["id"], row["id"])
                ).rowcount == 0
                if gone:
                    raise RucioError("DataIdentifierNotFound",
                                     f"Data identifier '{child.get('scope')}:{child.get('name')}' not found under '{scope}:{name}'")
            c.execute("UPDATE rucio_dids SET updated_at=? WHERE id=?", (now(), parent["id"]))

    # -- metadata ---------------------------------------------------------------------
    def get_metadata(self, scope: str, name: str, plugin: str = "DID_COLUMN") -> dict:
        self.undertake()
        with self.db.read() as c:
            return didmeta.get(c, self.require(c, scope, name), plugin)

    def set_metadata(self, account: str | None, scope: str, name: str, values: dict, recursive: bool = False) -> None:
        with self.db.write() as c:
            row = self.require(c, scope, name)
            self.require_owner(c, account, scope, "set metadata")
            didmeta.apply(c, row, values)
            if recursive:
                columns, _ = didmeta.split(values)
                columns.pop("lifetime", None)
                for child in c.execute("SELECT d.* FROM rucio_contents c JOIN rucio_dids d ON d.id = c.child_id "
                                       "WHERE c.parent_id=?", (row["id"],)).fetchall():
                    didmeta.set_columns(c, child, {k: v for k, v in columns.items() if k not in didmeta.FILE_ONLY})

    def delete_metadata(self, account: str | None, scope: str, name: str, key: str) -> None:
        with self.db.write() as c:
            row = self.require(c, scope, name)
            self.require_owner(c, account, scope, "delete metadata")
            if didmeta.plugin_for(key) == "DID_COLUMN":
                raise RucioError("UnsupportedOperation", "The DidColumnMeta plugin does not currently support deleting metadata.")
            didmeta.delete_json(c, row, key)

    def bulk_metadata(self, dids: Sequence[dict], plugin: str = "JSON", inherit: bool = False) -> list[dict]:
        """Metadata of many DIDs; unknown ones are skipped, as Rucio does."""
        out = []
        with self.db.read() as c:
            for did in dids:
                row = self.find(c, did.get("scope", ""), did.get("name", ""))
                if row is None:
                    continue
                values = didmeta.get(c, row, plugin)
                if inherit:
                    values = {**self._inherited(c, row["id"]), **values}
                out.append({"scope": row["scope"], "name": row["name"], **values})
        return out

    def _inherited(self, c: sqlite3.Connection, did_id: int) -> dict:
        merged: dict = {}
        seen = {did_id}
        current = did_id
        while True:
            up = c.execute("SELECT parent_id FROM rucio_contents WHERE child_id=? LIMIT 1", (current,)).fetchone()
            if up is None or up["parent_id"] in seen:
                return merged
            current = up["parent_id"]
            seen.add(current)
            merged = {**didmeta.json_meta(c, current), **merged}

    # -- undertaker -------------------------------------------------------------------
    def undertake(self) -> int:
        """Remove DIDs and rules whose lifetime is over; returns the number of DIDs removed.

        Called before DID operations (one indexed query when nothing expired), so a
        lifetime of 0 deletes at once, like Rucio's undertaker daemon would soon after.
        """
        ts = now()
        expired = [r["id"] for r in self.db.execute(
            "SELECT id FROM rucio_dids WHERE expired_at IS NOT NULL AND expired_at <= ?", (ts,))]
        old_rules = self.db.execute(
            "SELECT 1 FROM rucio_rules WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 1", (ts,))
        if not expired and not old_rules:
            return 0
        with self._undertake_lock:
            with self.db.write() as c:
                c.execute("DELETE FROM rucio_rules WHERE expires_at IS NOT NULL AND expires_at <= ?", (ts,))
                files = self.erase(c, expired)
            self.remove_files(files)
        return len(expired)

    def erase(self, c: sqlite3.Connection, ids: Sequence[int]) -> list[tuple[str, str]]:
        """Delete DIDs now, keep tombstones; returns (rse, name) of replicas to remove from disk.

        A file left without any parent in its deleted dataset's scope goes too,
        replicas included, as Rucio's reaper would do once its locks are gone.
        """
        doomed: list[tuple[str, str]] = []
        ts = now()
        for did_id in ids:
            row = c.execute("SELECT * FROM rucio_dids WHERE id=?", (did_id,)).fetchone()
            if row is None:
                continue
            orphans = []
            if row["did_type"] == "DATASET":
                orphans = [r["id"] for r in c.execute(
                    "SELECT d.id FROM rucio_contents c JOIN rucio_dids d ON d.id = c.child_id "
                    "WHERE c.parent_id=? AND d.scope=?", (did_id, row["scope"]))]
            doomed += self._delete_did(c, row, ts)
            for file_id in orphans:
                still_used = c.execute(
                    "SELECT 1 FROM rucio_contents WHERE child_id=? UNION ALL "
                    "SELECT 1 FROM rucio_rules WHERE did_id=? LIMIT 1", (file_id, file_id)).fetchone()
                frow = c.execute("SELECT * FROM rucio_dids WHERE id=?", (file_id,)).fetchone()
                if frow is not None and not still_used:
                    doomed += self._delete_did(c, frow, ts)
        return doomed

    def _delete_did(self, c: sqlite3.Connection, row: sqlite3.Row, ts: float) -> list[tuple[str, str]]:
        replicas = [(self.rse_names[r["rse"]], row["name"]) for r in c.execute(
            "SELECT rse FROM rucio_replicas WHERE did_id=?", (row["id"],))]
        c.execute("INSERT OR REPLACE INTO rucio_deleted_dids VALUES (?,?,?,?,?)",
                  (row["scope"], row["name"], row["did_type"], row["account"], ts))
        c.execute("DELETE FROM rucio_dids WHERE id=?", (row["id"],))  # cascades: contents, meta, replicas, rules
        return replicas

    def remove_files(self, replicas: Iterable[tuple[str, str]]) -> None:
        for rse, name in replicas:
            try:
                path: Path = se_path(self.settings, rse, name)
                path.unlink(missing_ok=True)
            except Exception:  # a bad path must not stop the rest
                continue

    # -- API for the job engine -------------------------------------------------------
    def replica_locations(self, names: Sequence[str]) -> dict[str, list[str]]:
        """File LFN -> RSEs holding an AVAILABLE replica on a storage element that is up for
        reading (files without one are absent)."""
        out: dict[str, list[str]] = {}
        down = rse_status.unreadable(self)
        for part in chunks(list(names)):
            for row in self.db.execute(
                "SELECT d.name, r.rse FROM rucio_dids d JOIN rucio_replicas r ON r.did_id = d.id "
                f"WHERE d.name IN ({placeholders(len(part))}) AND d.did_type='FILE' AND r.state='AVAILABLE' "
                "ORDER BY d.name, r.rse", tuple(part)):
                if self.rse_names[row["rse"]] not in down:
                    out.setdefault(row["name"], []).append(self.rse_names[row["rse"]])
        return out

    def file_info(self, names: Sequence[str]) -> dict[str, dict]:
        """File LFN -> {scope, bytes, adler32, events} (unknown names are absent)."""
        out: dict[str, dict] = {}
        for part in chunks(list(names)):
            for row in self.db.execute(
                "SELECT scope, name, bytes, adler32, events FROM rucio_dids "
                f"WHERE name IN ({placeholders(len(part))}) AND did_type='FILE'", tuple(part)):
                out[row["name"]] = {"scope": row["scope"], "bytes": row["bytes"],
                                    "adler32": row["adler32"], "events": row["events"]}
        return out

    def exists(self, name: str) -> bool:
        """Whether a live DID (any scope, any type) has this name."""
        self.undertake()
        return bool(self.db.execute("SELECT 1 FROM rucio_dids WHERE name=? LIMIT 1", (name,)))

    def is_used(self, name: str) -> bool:
        """Whether the name is taken: by a live DID or by a deleted one (names are never reused)."""
        return self.exists(name) or bool(
            self.db.execute("SELECT 1 FROM rucio_deleted_dids WHERE name=? LIMIT 1", (name,)))

    def add_replicas(self, account: str | None, rse: str, files: Sequence[dict]) -> None:
        """Register replicas (and their file DIDs); see :func:`add_replicas`."""
        add_replicas(self, account, rse, files)

    def did_of(self, name: str) -> tuple[str, str] | None:
        rows = self.db.execute("SELECT scope, did_type FROM rucio_dids WHERE name=? LIMIT 1", (name,))
        return (rows[0]["scope"], rows[0]["did_type"]) if rows else None

    def physical_path(self, rse: str, name: str) -> Path:
        return se_path(self.settings, rse, name)


# -- replica registration (creates the file DIDs) -------------------------------------

STATES = {"A": "AVAILABLE", "U": "UNAVAILABLE", "C": "COPYING", "B": "BAD", "D": "BEING_DELETED",
          "S": "SOURCE", "T": "TEMPORARY_UNAVAILABLE"}


def _state(value: Any) -> str:
    text = str(value or "AVAILABLE").upper()
    return STATES.get(text, text)


def add_replicas(cat: Catalog, account: str | None, rse: str, files: Sequence[dict]) -> None:
    """Register replicas of files on an RSE, creating the file DIDs that do not exist yet."""
    if not files:
        raise RucioError("InvalidObject", "Problem validating files : no files given")
    cat.require_rse(rse)
    cat.undertake()
    with cat.db.write() as c:
        _add(cat, c, account, rse, files)


def register_missing(cat: Catalog, c: sqlite3.Connection, account: str | None, rse: str, files: Sequence[dict]) -> None:
    """Attach with ``rse``: register the files that carry sizes and are not replicated there yet."""
    cat.require_rse(rse)
    rse_int = cat.rse_ids[rse]
    todo = []
    for f in files:
        row = cat.find(c, f.get("scope", ""), f.get("name", ""))
        has = row is not None and c.execute(
            "SELECT 1 FROM rucio_replicas WHERE did_id=? AND rse=?", (row["id"], rse_int)).fetchone()
        if not has and f.get("bytes") is not None:
            todo.append(f)
    if todo:
        _add(cat, c, account, rse, todo)


def _check_rse_permission(cat: Catalog, account: str | None, rse: str) -> None:
    if account in (None, ROOT):
        return
    if cat.rse_kind(rse) != "TMP":
        raise access_denied(f"Account {account} can not add replicas on {rse}: users may write only to TMP storage")


def _add(cat: Catalog, c: sqlite3.Connection, account: str | None, rse: str, files: Sequence[dict]) -> None:
    _check_rse_permission(cat, account, rse)
    rse_int = cat.rse_ids[rse]
    ts = now()
    new_replicas = []
    for f in files:
        scope, name = f.get("scope"), f.get("name")
        if not scope or not name or f.get("bytes") is None:
            raise RucioError("InvalidObject", "Problem validating files : scope, name and bytes are required")
        cat.require_owner(c, account, scope, "add replicas")
        adler = normalise_adler32(f.get("adler32"))
        size = int(f["bytes"])
        row = cat.find(c, scope, name)
        if row is None:
            row = _new_file(cat, c, account, scope, name, size, adler, f, ts)
        else:
            _check_consistent(row, size, adler)
        if c.execute("SELECT 1 FROM rucio_replicas WHERE did_id=? AND rse=?", (row["id"], rse_int)).fetchone():
            raise RucioError("Duplicate", f"File replica already exists: {scope}:{name} on {rse}")
        new_replicas.append((row["id"], rse_int, _state(f.get("state")), size, ts, ts))
    c.executemany("INSERT INTO rucio_replicas VALUES (?,?,?,?,?,?)", new_replicas)


def _new_file(cat: Catalog, c: sqlite3.Connection, account: str | None, scope: str, name: str,
              size: int, adler: str | None, f: dict, ts: float) -> sqlite3.Row:
    cat.check_name(c, account, scope, name)
    if cat.is_tombstoned(c, scope, name):
        raise RucioError("DataIdentifierAlreadyExists", f"Data Identifier {scope}:{name} already existed and was deleted: names cannot be reused")
    meta = dict(f.get("meta") or {})
    events = meta.pop("events", None)
    guid = meta.pop("guid", None) or f.get("guid")
    c.execute(
        "INSERT INTO rucio_dids (scope, name, did_type, account, is_open, bytes, events, adler32, md5, "
        "guid, created_at, updated_at) VALUES (?,?,'FILE',?,0,?,?,?,?,?,?,?)",
        (scope, name, account or ROOT, size, events, adler, f.get("md5"), guid, ts, ts),
    )
    row = cat.require(c, scope, name)
    if meta:
        didmeta.apply(c, row, meta)
    return row


def _check_consistent(row: sqlite3.Row, size: int, adler: str | None) -> None:
    ident = f"{row['scope']}:{row['name']}"
    if row["did_type"] != "FILE":
        raise RucioError("UnsupportedOperation", f"{ident} is a {row['did_type']}, not a file")
    if row["bytes"] != size or (adler and row["adler32"] and adler != row["adler32"]):
        raise RucioError("FileConsistencyMismatch",
                         f"(bytes, adler32) of {ident} differ from the catalogue: ({size}, {adler}) != ({row['bytes']}, {row['adler32']})")
