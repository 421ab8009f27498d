"""``GET /dids/<scope>/dids/search``: Rucio's filter language compiled to SQLite.

Filters are a list of OR-ed dicts whose items are AND-ed; a key may carry an
operator suffix (``.gt .gte .lt .lte .ne``), string values may hold ``*``
wildcards and are type-cast as Rucio's filter engine does (so ``"18"`` is 18).
All keys of one search must belong to one metadata plugin: DID columns, or
generic JSON metadata. Like Rucio, the JSON plugin ignores the DID type and
answers ``long=True`` with null type and sizes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from gb2.server.http import check_int64
from gb2.server.rucio.errors import RucioError
from gb2.server.rucio.meta import plugin_for
from gb2.server.rucio.schema import NATIVE_COLUMNS

OPERATORS = {"": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
TYPES = {
    "all": ("CONTAINER", "DATASET", "FILE"),
    "collection": ("CONTAINER", "DATASET"),
    "container": ("CONTAINER",),
    "dataset": ("DATASET",),
    "file": ("FILE",),
}
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%fZ",
                 "%Y-%m-%dT%H:%M:%S.%fZ", "%a, %d %b %Y %H:%M:%S UTC")
_LEGACY_SKIP = ("type", "limit", "long", "recursive", "filters")


def parse_filters(raw: str | None, args: Mapping[str, str]) -> list[dict[str, Any]]:
    """``filters`` is a Python literal; without it the other query arguments form one AND group."""
    if raw is None:
        return [{k: v for k, v in args.items() if k not in _LEGACY_SKIP}]
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        raise RucioError("ValueError", f"malformed filters: {raw!r}") from exc
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(g, dict) for g in value):
        raise RucioError("ValueError", "filters must be a list of dictionaries")
    return [dict(g) for g in value]


def typecast(value: Any) -> Any:
    """Rucio's string coercion: booleans, dates, numbers; anything else stays a string."""
    if not isinstance(value, str):
        return value
    text = value.replace("true", "True").replace("TRUE", "True").replace("false", "False").replace("FALSE", "False")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    if not any(op in text for op in "+-*/"):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            pass
    return value


def choose_plugin(filters: list[dict[str, Any]]) -> str:
    plugins = {plugin_for(key) for group in filters for key in group if key != "name"}
    if len(plugins) > 1:
        raise RucioError("InvalidMetadata", "Filter keys used do not all belong to the same metadata plugin.")
    return plugins.pop() if plugins else "DID_COLUMN"


def _split_key(key: str) -> tuple[str, str]:
    parts = key.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] not in OPERATORS):
        raise RucioError("DIDFilterSyntaxError", f"Invalid filter key: {key!r}", 400)
    return parts[0], parts[1] if len(parts) == 2 else ""


def _glob(value: str) -> str:
    out = []
    for ch in value:
        if ch in "*%":
            out.append("*")
        elif ch in "?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def _json_path(key: str) -> str:
    """A SQL literal for the JSON path of ``key`` (keys are data, never SQL)."""
    if not key or '"' in key or "\\" in key:
        raise RucioError("KeyNotFound", f"invalid metadata key {key!r}")
    return "'" + f'$."{key}"'.replace("'", "''") + "'"


def _sql_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bool):
        return int(value)
    return value


class _Compiler:
    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.params: list[Any] = []

    def column(self, key: str) -> str:
        if key == "name":
            return "d.name"
        if self.plugin == "JSON":
            return f"json_extract(m.meta, {_json_path(key)})"
        if key in ("created_after", "created_before"):
            return "d.created_at"
        if key in NATIVE_COLUMNS:
            return f"d.{key}"
        return f"json_extract(d.extra, {_json_path(key)})"

    def condition(self, key: str, op: str, value: Any) -> str | None:
        if key == "created_after":
            op = "gte"
        elif key == "created_before":
            op = "lte"
        if key == "name" and op not in ("", "ne"):
            raise RucioError("ValueError", "Name operator must be an equality operator.")
        value = typecast(value)
        sql_op = OPERATORS[op]
        if isinstance(value, str) and ("*" in value or "%" in value):
            if op not in ("", "ne"):
                raise RucioError("DIDFilterSyntaxError", "Wildcards can only be used with equality operators", 400)
            if value in ("*", "%"):
                return None
            col = self.column(key)
            self.params.append(_glob(value))
            return f"{col} {'NOT ' if op == 'ne' else ''}GLOB ?"
        col = self.column(key)
        bound = _sql_value(value)
        numeric = isinstance(bound, (int, float))
        if op in ("", "ne"):
            if numeric:  # a number also matches its string spelling ("10810" == 10810)
                self.params += [bound, str(bound)]
                test = f"({col} = ? OR CAST({col} AS TEXT) = ?)"
            else:
                self.params.append(bound)
                test = f"{col} = ?"
            return f"NOT ({test})" if op == "ne" else test
        self.params.append(bound)
        kinds = "('integer','real')" if numeric else "('text')"
        return f"(typeof({col}) IN {kinds} AND {col} {sql_op} ?)"


def compile_search(scope: str, filters: list[dict[str, Any]], did_type: str, limit: int | None) -> tuple[str, list[Any], str]:
    """(SQL, parameters, plugin) of a search; raises Rucio's errors before anything streams."""
    did_type = (did_type or "collection").lower()
    plugin = choose_plugin(filters)
    comp = _Compiler(plugin)
    groups = []
    for group in filters:
        group = dict(group)
        group_type = str(group.pop("type", did_type)).lower()
        if group_type not in TYPES:
            raise RucioError("UnsupportedOperation", f"{group_type} is not a valid type. Valid types are {list(TYPES)}")
        terms = []
        seen = set()
        for key, value in group.items():
            name, op = _split_key(key)
            if (name, op) in seen:
                raise RucioError("DuplicateCriteriaInDIDFilter", "Duplicate criteria in filter", 400)
            seen.add((name, op))
            cond = comp.condition(name, op, value)
            if cond:
                terms.append(cond)
        if plugin == "DID_COLUMN":
            comp.params += list(TYPES[group_type])
            terms.append(f"d.did_type IN ({','.join('?' * len(TYPES[group_type]))})")
        groups.append(" AND ".join(terms) if terms else "1")
    where = " OR ".join(f"({g})" for g in groups) or "1"
    if plugin == "JSON":
        sql = ("SELECT d.scope, d.name, d.did_type, d.bytes, d.length FROM rucio_did_meta m "
               f"JOIN rucio_dids d ON d.id = m.did_id WHERE m.scope = ? AND ({where}) ORDER BY d.name")
    else:
        sql = (f"SELECT d.scope, d.name, d.did_type, d.bytes, d.length FROM rucio_dids d "
               f"WHERE d.scope = ? AND ({where}) ORDER BY d.name")
    params = [scope, *comp.params]
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    check_int64(params)
    return sql, params, plugin


def render(rows: Iterator[Any], plugin: str, long: bool) -> Iterator[Any]:
    for row in rows:
        if not long:
            yield row["name"]
        elif plugin == "JSON":
            yield {"scope": row["scope"], "name": row["name"], "did_type": None, "bytes": None, "length": None}
        else:
            yield {"scope": row["scope"], "name": row["name"], "did_type": row["did_type"],
                   "bytes": row["bytes"], "length": row["length"]}

