"""Look inside stand-in output files: ``python -m gb2.standin.show FILE... [--rows N]``.

Prints each file's kind, event count and metadata, and for ntuples the first
rows of every tree (real ROOT files need ROOT or uproot instead).
"""

from __future__ import annotations

import argparse
import sys

from gb2.standin.eventfile import EventFileError, read_header, read_ntuple


def show(path: str, rows: int) -> None:
    header = read_header(path)
    print(f"{path}: {header['kind']} file, {header['events']} events")
    meta = header.get("metadata") or {}
    for key in ("LFN", "parents", "release", "isMC"):
        if key in meta:
            print(f"  {key}: {meta[key]}")
    if header["kind"] != "ntuple":
        return
    for tree, table in read_ntuple(path).items():
        print(f"  tree {tree}: {len(table)} rows")
        for row in table[:rows]:
            print("    " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gb2.standin.show", description=__doc__)
    p.add_argument("files", nargs="+")
    p.add_argument("--rows", type=int, default=3, help="ntuple rows to print per tree (default 3)")
    args = p.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            show(path, args.rows)
        except (OSError, EventFileError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
