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


def plain_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, stream: TextIO | None = None) -> int:
    """Write a fixed-width table; returns the number of rows. Column by column, so that the
    widths of 100,000 rows are measured in C."""
    out = stream or sys.stdout
    columns = list(zip(*rows, strict=True)) or [() for _ in headers]
    texts = [[v if type(v) is str else "" if v is None else str(v) for v in column] for column in columns]
    widths = [max(len(h), max(map(len, column), default=0)) for h, column in zip(headers, texts, strict=True)]
    fmt = " ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), "=" * (sum(widths) + len(widths) - 1)]
    lines.extend(fmt.format(*row).rstrip() for row in zip(*texts, strict=True))
    out.write("\n".join(lines) + "\n")
    return len(texts[0]) if texts else 0


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
