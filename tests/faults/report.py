"""``python -m tests.faults.report --rate 0.1 --rate 0.3``: the everyday loop through the fault
proxy at each rate (``--seeds`` seeded runs each), and the table of the closing note.

Each command of a run gets one rerun if it fails (counted as a rerun, never as a success
at the first try); the checks run on a direct connection to the server afterwards.
Exit status 0 only if every run ended with every command succeeding and every check at 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.faults.loop import SUMMARY_HEAD, Report, run_loop, summary_row


def combined(reports: list[Report]) -> Report:
    """Several seeded runs at one rate as one row."""
    total = Report(reports[0].rate, reports[0].seed, reports[0].big)
    for r in reports:
        total.steps += r.steps
        for name in ("jobs", "duplicates", "extra_copies_removed", "missing", "files", "corrupt", "partial",
                     "missing_files", "missing_logs", "requests", "seconds"):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(r, name))
        for fault, n in r.faults.items():
            total.faults[fault] = total.faults.get(fault, 0) + n
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.faults.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--rate", type=float, action="append", help="fault rate (repeatable; default 0.1 and 0.3)")
    p.add_argument("--seeds", type=int, default=3, help="seeded runs per rate (seeds 1..N)")
    p.add_argument("--big", type=int, default=300, help="jobs of the big project")
    p.add_argument("--details", action="store_true", help="also print every command of every run")
    args = p.parse_args(argv)
    rows, ok = [], True
    with tempfile.TemporaryDirectory(prefix="gb2-faults-") as tmp:
        for rate in args.rate or [0.1, 0.3]:
            reports = []
            for seed in range(1, args.seeds + 1):
                report = run_loop(Path(tmp) / f"r{rate}-s{seed}", rate=rate, seed=seed, big=args.big)
                reports.append(report)
                ok = ok and report.all_ok and report.clean
                print(f"rate {rate:.0%} seed {seed}: {report.commands} commands, {report.first_try} at the first try, "
                      f"{report.retries} retries, {sum(report.faults.values())} faults, {report.seconds:.0f} s",
                      file=sys.stderr, flush=True)  # fmt: skip
                if args.details:
                    print(report.details(), "\n", flush=True)
            rows.append(summary_row(combined(reports)))
    print(f"Everyday loop through the fault proxy, {args.seeds} seeded runs per rate, {args.big}-job project:\n")
    print(SUMMARY_HEAD)
    print("\n".join(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
