"""Start-up time of the commands: ``<tool> --help`` against ``python -c pass``, same run.

    python bench/startup.py [--runs 30]

Prints the median wall time of each and the ratio (target: --help within 1.5x
of ``python -c pass``), plus one real command that imports gb2 for comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def median_time(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    bindir = os.path.dirname(sys.executable)
    tools = ["gbasf2", "gb2_job_status", "gb2_ds_get"]
    missing = [t for t in tools if not shutil.which(t, path=bindir)]
    if missing:
        print(f"not installed next to {sys.executable}: {', '.join(missing)}", file=sys.stderr)
        return 2
    for argv in ([sys.executable, "-c", "pass"], [os.path.join(bindir, "gbasf2"), "--help"]):
        median_time(argv, 3)  # warm the file cache
    baseline = median_time([sys.executable, "-c", "pass"], args.runs)
    print(f"python -c pass              {baseline * 1000:7.1f} ms  (baseline, median of {args.runs})")
    worst = 0.0
    for tool in tools:
        t = median_time([os.path.join(bindir, tool), "--help"], args.runs)
        worst = max(worst, t / baseline)
        print(f"{tool + ' --help':<27} {t * 1000:7.1f} ms  ratio {t / baseline:.2f}x")
    full = median_time([os.path.join(bindir, "gb2_job_status"), "-p"], args.runs)
    print(f"{'gb2_job_status -p (usage)':<27} {full * 1000:7.1f} ms  ratio {full / baseline:.2f}x  (imports click and gb2)")
    print(f"worst --help ratio: {worst:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
