"""Streaming DID listings: contents, files (recursive), parents, a scope's top level.

Each function checks its DID first (so a 404 is answered before streaming
starts) and returns a lazy iterator over a private read-only cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from gb2.server.rucio.schema import TREE_CTE

if TYPE_CHECKING:
    from gb2.server.rucio.catalog import Catalog


def list_content(cat: Catalog, scope: str, name: str) -> Iterator[dict]:
    row = cat.lookup(scope, name)
    rows = cat.stream(
        "SELECT d.scope, d.name, d.did_type, d.bytes, d.adler32, d.md5 FROM rucio_contents c "
        "JOIN rucio_dids d ON d.id = c.child_id WHERE c.parent_id = ? ORDER BY d.name, d.scope", (row["id"],))
    return ({"scope": r["scope"], "name": r["name"], "type": r["did_type"], "bytes": r["bytes"],
             "adler32": r["adler32"], "md5": r["md5"]} for r in rows)


def list_files(cat: Catalog, scope: str, name: str, long: bool = False) -> Iterator[dict]:
    """Every file below a DID (the file itself for a file), with size, checksum and events."""
    row = cat.lookup(scope, name)
    rows = cat.stream(
        TREE_CTE + "SELECT d.scope, d.name, d.bytes, d.adler32, d.guid, d.events, d.extra FROM tree "
        "JOIN rucio_dids d ON d.id = tree.id WHERE d.did_type = 'FILE' ORDER BY d.name, d.scope", (row["id"],))

    def render() -> Iterator[dict]:
        for r in rows:
            item = {"scope": r["scope"], "name": r["name"], "bytes": r["bytes"], "adler32": r["adler32"],
                    "guid": r["guid"], "events": r["events"]}
            if long:
                item["lumiblocknr"] = None
            yield item

    return render()


def list_parents(cat: Catalog, scope: str, name: str) -> Iterator[dict]:
    row = cat.lookup(scope, name)
    rows = cat.stream(
        "SELECT d.scope, d.name, d.did_type FROM rucio_contents c JOIN rucio_dids d ON d.id = c.parent_id "
        "WHERE c.child_id = ? ORDER BY d.name", (row["id"],))
    return ({"scope": r["scope"], "name": r["name"], "type": r["did_type"]} for r in rows)


def scope_list(cat: Catalog, scope: str, name: str | None = None, recursive: bool = False) -> Iterator[dict]:
    """Top-level DIDs of a scope (or one named DID), optionally with their descendants."""
    cat.undertake()
    if name:
        start = cat.lookup(scope, name)
        roots = iter([start])
    else:
        roots = cat.stream(
            "SELECT d.* FROM rucio_dids d WHERE d.scope = ? AND NOT EXISTS "
            "(SELECT 1 FROM rucio_contents c WHERE c.child_id = d.id) ORDER BY d.name", (scope,))

    def walk(row, parent: dict | None, level: int) -> Iterator[dict]:
        yield {"scope": row["scope"], "name": row["name"], "type": row["did_type"], "parent": parent,
               "level": level, "bytes": row["bytes"]}
        if recursive and row["did_type"] != "FILE":
            children = list(cat.stream(
                "SELECT d.* FROM rucio_contents c JOIN rucio_dids d ON d.id = c.child_id "
                "WHERE c.parent_id = ? ORDER BY d.name", (row["id"],)))
            for child in children:
                yield from walk(child, {"scope": row["scope"], "name": row["name"]}, level + 1)

    def render() -> Iterator[dict]:
        for row in roots:
            yield from walk(row, None, 0)

    return render()
