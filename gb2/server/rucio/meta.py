"""DID metadata the way Rucio splits it between two plugins.

Keys that are columns of Rucio's ``dids`` table belong to the DID-column plugin;
every other key is generic JSON metadata. Searches and ``GET .../meta?plugin=``
keep the two apart exactly as Rucio does, so the same Dataset Searcher keys work
against a real Rucio with the JSON plugin enabled.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gb2.server.rucio.errors import RucioError
from gb2.server.rucio.schema import COLUMN_DEFAULTS, COLUMN_KEYS, DID_COLUMNS, NATIVE_COLUMNS
from gb2.server.rucio.util import now, rucio_date

#: Column keys that only make sense on files.
FILE_ONLY = ("events", "guid", "adler32", "bytes")
#: Managed by the column plugin for searches, but not settable.
_NOT_SETTABLE = frozenset({"type", "created_before", "created_after", "name", "scope", "created_at",
                           "updated_at"})
_DATES = frozenset({"expired_at", "created_at", "updated_at"})
_BOOLS = frozenset({"is_open", "monotonic"})


def plugin_for(key: str) -> str:
    """``DID_COLUMN`` or ``JSON``: the plugin that manages ``key`` (operator suffix removed)."""
    return "DID_COLUMN" if key.split(".")[0] in COLUMN_KEYS else "JSON"


def split(meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column keys, JSON keys) of a metadata dict."""
    column = {k: v for k, v in meta.items() if plugin_for(k) == "DID_COLUMN"}
    return column, {k: v for k, v in meta.items() if k not in column}


def column_meta(row: sqlite3.Row) -> dict[str, Any]:
    """Every DID column, in Rucio's order, with Rucio's rendering of dates and booleans."""
    extra = json.loads(row["extra"]) if row["extra"] else {}
    out: dict[str, Any] = {}
    for key in DID_COLUMNS:
        if key in NATIVE_COLUMNS:
            value = row[key]
            if key in _DATES:
                value = rucio_date(value)
            elif key in _BOOLS:
                value = bool(value)
        else:
            value = extra.get(key, COLUMN_DEFAULTS.get(key))
        out[key] = value
    return out


def json_meta(c: sqlite3.Connection, did_id: int) -> dict[str, Any]:
    row = c.execute("SELECT meta FROM rucio_did_meta WHERE did_id=?", (did_id,)).fetchone()
    return json.loads(row["meta"]) if row else {}


def get(c: sqlite3.Connection, row: sqlite3.Row, plugin: str) -> dict[str, Any]:
    plugin = (plugin or "DID_COLUMN").upper()
    if plugin == "JSON":
        return json_meta(c, row["id"])
    if plugin == "DID_COLUMN":
        return column_meta(row)
    if plugin == "ALL":
        return {**column_meta(row), **json_meta(c, row["id"])}
    raise RucioError("UnsupportedMetadataPlugin", f"Metadata plugin {plugin} is not enabled on the server.", 400)


def set_json(c: sqlite3.Connection, row: sqlite3.Row, values: dict[str, Any]) -> None:
    if not values:
        return
    meta = json_meta(c, row["id"])
    meta.update(values)
    c.execute(
        "INSERT INTO rucio_did_meta (did_id, scope, meta) VALUES (?,?,?) "
        "ON CONFLICT(did_id) DO UPDATE SET meta=excluded.meta",
        (row["id"], row["scope"], json.dumps(meta)),
    )


def delete_json(c: sqlite3.Connection, row: sqlite3.Row, key: str) -> None:
    meta = json_meta(c, row["id"])
    if key not in meta:
        raise RucioError("KeyNotFound", f"No key {key} for data identifier {row['scope']}:{row['name']}")
    del meta[key]
    c.execute("UPDATE rucio_did_meta SET meta=? WHERE did_id=?", (json.dumps(meta), row["id"]))


def set_columns(c: sqlite3.Connection, row: sqlite3.Row, values: dict[str, Any]) -> None:
    """Apply column-plugin keys (``lifetime`` sets ``expired_at``, like Rucio)."""
    if not values:
        return
    rejected = [k for k in values if k in _NOT_SETTABLE]
    if rejected:
        raise RucioError("InvalidMetadata", f"Some of the keys are not accepted: {rejected}")
    ident = f"{row['scope']}:{row['name']}"
    extra = json.loads(row["extra"]) if row["extra"] else {}
    updates: dict[str, Any] = {}
    for key, value in values.items():
        if key == "lifetime":
            updates["expired_at"] = None if value is None else now() + float(value)
        elif key in FILE_ONLY:
            if row["did_type"] != "FILE":
                raise RucioError("UnsupportedOperation", f"{key} for {ident} cannot be updated")
            updates[key] = value
        elif key in NATIVE_COLUMNS:
            updates[key] = value
        else:
            extra[key] = value
    updates["extra"] = json.dumps(extra) if extra else None
    updates["updated_at"] = now()
    assignments = ", ".join(f"{k}=?" for k in updates)
    c.execute(f"UPDATE rucio_dids SET {assignments} WHERE id=?", (*updates.values(), row["id"]))
    if "bytes" in updates:
        c.execute("UPDATE rucio_replicas SET bytes=? WHERE did_id=?", (updates["bytes"], row["id"]))


def apply(c: sqlite3.Connection, row: sqlite3.Row, values: dict[str, Any]) -> None:
    column, generic = split(values)
    set_columns(c, row, column)
    set_json(c, row, generic)
