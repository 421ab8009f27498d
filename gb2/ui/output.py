"""Output for people and for scripts.

* ``print_json``: the ``--json`` form of every listing (keys documented in the README).
* ``plain_table``: gbasf2's plain layout (header, ``=====`` rule, rows), written in
  one pass so that 100,000 rows print in a fraction of a second.
* ``rich_table``/``console``: rich renderings for new, human-only views.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any, TextIO


def print_json(data: Any, stream: TextIO | None = None) -> None:
    """Indented on a terminal, compact in a pipe (where 100,000 jobs must print fast)."""
    out = stream or sys.stdout
    # json.dumps, not json.dump: only the one-shot form uses the C encoder.
    if out.isatty():
        out.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        out.write(json.dumps(data, separators=(",", ":"), default=str) + "\n")


def fields_block(fields: Sequence[tuple[str, str]]) -> str:
    """``key : value`` lines with aligned colons, like gbasf2's proxy block."""
    width = max((len(k) for k, _ in fields), default=0)
    return "\n".join(f"{k.ljust(width)} : {v}" for k, v in fields)


def json_items(items: list[Any]) -> str:
    """The items of a JSON list as :func:`print_json` writes them into a pipe, without the
    brackets: the pages of a long listing are encoded as they come, then joined."""
    return json.dumps(items, separators=(",", ":"), default=str, check_circular=False)[1:-1]


def print_json_listing(before: dict[str, Any], key: str, pages: list[str], after: dict[str, Any],
                       stream: TextIO | None = None) -> None:  # fmt: skip
    """What ``print_json({**before, key: [items], **after})`` writes into a pipe, from the list's
    pages encoded by :func:`json_items`."""
    out = stream or sys.stdout
    head = json.dumps(before, separators=(",", ":"), default=str)[:-1]
    tail = json.dumps(after, separators=(",", ":"), default=str)[1:]
    out.write(f"{head}{',' if before else ''}{json.dumps(key)}:[")
    first = True
    for page in pages:  # written one by one: joined, 100,000 jobs would be copied twice more
        if page:
            if not first:
                out.write(",")
            out.write(page)
            first = False
    out.write(f"]{',' if after else ''}{tail}\n")


class PlainTable:
    """gbasf2's plain layout (header, ``=====`` rule, rows), filled a batch of rows at a time
    (a page, while the next ones are fetched) and written in one pass at the end; widths are
    measured column by column, in C."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.headers = list(headers)
        self.columns: list[list[str]] = [[] for _ in headers]
        self.widths = [len(h) for h in headers]

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        self.add_columns(list(zip(*rows, strict=True)))

    def add_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Rows given as one sequence of values per column (all of the same length)."""
        for i, column in enumerate(columns):
            self.columns[i].extend(texts := _texts(column))
            self.widths[i] = max(self.widths[i], max(map(len, texts), default=0))

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def write(self, stream: TextIO | None = None) -> int:
        """Write the table; returns the number of rows."""
        out = stream or sys.stdout
        widths = self.widths
        fmt = " ".join(f"{{:<{w}}}" for w in widths)
        out.write(fmt.format(*self.headers).rstrip() + "\n" + "=" * (sum(widths) + len(widths) - 1) + "\n")
        if not len(self):
            return 0
        # Column by column in C (ljust, join, rstrip over whole columns): a Python-level format
        # per row would cost a fifth of a second for 100,000 jobs. The last column needs no
        # padding: the line is stripped on the right anyway.
        padded = [list(map(str.ljust, column, repeat(width))) for column, width in zip(self.columns[:-1], widths,
                                                                                       strict=False)]  # fmt: skip
        lines = map(str.rstrip, map(" ".join, zip(*padded, self.columns[-1], strict=True)))
        out.write("\n".join(lines) + "\n")
        return len(self)


def _texts(column: Sequence[Any]) -> list[str]:
    """A column's values as text (None as empty), with no Python-level step per value when
    none is None: ``str`` of a str is the str itself."""
    if None in column:
        return [v if type(v) is str else "" if v is None else str(v) for v in column]
    return list(map(str, column))


def plain_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, stream: TextIO | None = None) -> int:
    """Write a fixed-width table; returns the number of rows."""
    table = PlainTable(headers)
    table.add(rows)
    return table.write(stream)


def console(stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def rich_table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]):  # type: ignore[no-untyped-def]
    from rich.table import Table

    table = Table(title=title, header_style="bold", show_edge=False)
    for h in headers:
        table.add_column(h)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def human_bytes(n: float | int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
