"""Every figure of issue 16 in one run, each with its baseline measured in the same run.

    python bench/targets.py [--jobs 100000] [--runs 20] [--skip-download]

1. everyday commands on a warm embedded server (``bench/everyday.py``): ``python -c pass``,
   ``rucio --help``/``dirac --help`` where installed, and the four commands (target 100 ms);
2. scale (``bench/scale.py``): a ``--jobs`` gbasf2 submission (target 15 s for 100,000) with a
   status command's latency during it, then the status of that project (targets 0.5 s and
   0.8 s with ``--json``);
3. the engine (``bench/engine.py``): the overhead per job with all slots busy (target 20 ms);
4. downloads (``bench/download.py``): 1 GB in 16 files against raw loopback (issue 14's figure,
   which gb2's start-up weighs on).

Peak memory (RSS) is printed next to each figure. Use the interpreter of the install to
measure; the machine may be shared, so read each figure against its baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def section(title: str, argv: list[str]) -> int:
    print(f"\n=== {title}: {' '.join(argv)}", flush=True)
    return subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="runs of each everyday command")
    parser.add_argument("--skip-download", action="store_true")
    args = parser.parse_args()
    codes = [
        section("1. everyday commands", ["everyday.py", "--runs", str(args.runs)]),
        section("2. submission and status at scale", ["scale.py", "--jobs", str(args.jobs)]),
        section("3. engine", ["engine.py"]),
    ]
    if not args.skip_download:
        codes.append(section("4. download of 1 GB in 16 files", ["download.py", "--cases", "big"]))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
