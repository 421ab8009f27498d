"""The embedded server and engine: start time, 100 trivial jobs, search over 10,000 jobs.

    python bench/engine.py [--jobs 100] [--search-jobs 10000]

* start: ``python -m gb2.server --port 0`` until it answers, on a fresh data dir
  (which seeds the sample grid) and again on the same dir (a restart);
  ``python -c pass`` is measured in the same run for scale;
* trivial jobs: ``--jobs`` ``/bin/true`` jobs submitted in bulk and run by the
  engine (one slot per core, all busy) until all are Done: the time per job and slot,
  less the payload's own (``/bin/true`` started and waited for here), is the engine's
  overhead per job (target: at most 20 ms), with the server's peak memory;
* search: a server holding ``--search-jobs`` jobs answers a one-page search, the
  whole project paged, and a server-side summary (medians of 20).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # the bench helpers; gb2 itself is the running interpreter's


def start_server(data_dir: Path, *extra: str) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gb2.server", "--port", "0", "--data-dir", str(data_dir),
                             "--user", "alice", *extra], stdout=subprocess.PIPE, text=True, cwd=data_dir.parent)  # fmt: skip
    url = proc.stdout.readline().strip()
    while httpx.get(f"{url}/api/health/ready").status_code != 200:
        time.sleep(0.01)
    return proc, url, time.perf_counter() - started


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def median(fn, runs: int = 20) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--search-jobs", type=int, default=10000)
    args = parser.parse_args()
    from gb2 import LOGIN_SECRET_FILE
    from gb2.client.diracx import DiracX
    from gb2.client.tokens import TokenStore
    from gb2.jobs import jdl
    from gb2.jobs.submit import Submitter
    from gb2.login import secret_approval

    work = Path(tempfile.mkdtemp(prefix="gb2-bench-engine-"))
    baseline = median(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 10)
    print(f"python -c pass                     {baseline * 1000:8.0f} ms")

    proc, url, first = start_server(work / "grid")
    print(f"server start, fresh data dir        {first * 1000:8.0f} ms  (includes seeding the sample grid)")
    try:
        dx = DiracX(url, TokenStore(work / "tokens.json"))
        dx.login("vo:belle group:belle", secret_approval(work / "grid" / LOGIN_SECRET_FILE, "alice"), interval=0.05)
        names = [f"t_{i:05d}" for i in range(args.jobs)]
        texts = [jdl.dumps({"Executable": "/bin/true", "JobName": n, "JobGroup": "trivial", "JobType": "User"}) for n in names]
        start = time.perf_counter()
        Submitter(dx, "alice", "trivial").submit(texts, names)
        submitted = time.perf_counter() - start
        query = [{"parameter": "JobGroup", "operator": "eq", "value": "trivial"}]
        while True:
            counts = {row["Status"]: row["count"] for row in dx.summary(["Status"], query)}
            if counts.get("Done", 0) + counts.get("Failed", 0) == args.jobs:
                break
            time.sleep(0.05)
        total = time.perf_counter() - start
        from bench.scale import peak_rss_mb

        server_mb = peak_rss_mb(proc.pid)
        slots = os.cpu_count() or 1
        per_slot = total * slots / args.jobs * 1000
        payload = median(lambda: subprocess.run(["/bin/true"], check=True), 20) * 1000
        print(f"{args.jobs} trivial jobs: submitted in {submitted:.2f} s, all final in {total:.2f} s "
              f"({args.jobs / total:.1f} jobs/s on {slots} slots); {counts}")  # fmt: skip
        print(f"  per job and slot {per_slot:.1f} ms, of which the payload (/bin/true) {payload:.1f} ms: engine overhead "
              f"{per_slot - payload:.1f} ms per job (target <= 20 ms: {'met' if per_slot - payload <= 20 else 'MISSED'}); "
              f"server peak RSS {server_mb:.0f} MB")  # fmt: skip
    finally:
        stop(proc)
    proc, url, again = start_server(work / "grid")
    stop(proc)
    print(f"server restart, same data dir       {again * 1000:8.0f} ms")

    proc, url, _ = start_server(work / "search", "--no-engine")
    try:
        dx = DiracX(url, TokenStore(work / "tokens2.json"))
        dx.login("vo:belle group:belle", secret_approval(work / "search" / LOGIN_SECRET_FILE, "alice"), interval=0.05)
        names = [f"s_{i:05d}" for i in range(args.search_jobs)]
        texts = [jdl.dumps({"Executable": "x", "JobName": n, "JobGroup": "many", "JobType": "User"}) for n in names]
        Submitter(dx, "alice", "many").submit(texts, names)
        query = [{"parameter": "JobGroup", "operator": "eq", "value": "many"},
                 {"parameter": "Owner", "operator": "eq", "value": "alice"}]  # fmt: skip
        params = ["JobID", "Status", "MinorStatus", "ApplicationStatus", "Site"]
        page = median(lambda: dx.search(params, query, per_page=100))
        one = median(lambda: dx.search(params, [{"parameter": "JobID", "operator": "eq", "value": 5000}]))
        whole = median(lambda: list(dx.iter_search(params, query)), 5)
        summary = median(lambda: dx.summary(["Status", "MinorStatus"], query))
        print(f"search over {args.search_jobs} jobs: one job by id {one * 1000:.1f} ms, first page of 100 {page * 1000:.1f} ms, "
              f"all {args.search_jobs} rows {whole * 1000:.0f} ms, summary {summary * 1000:.1f} ms (medians)")  # fmt: skip
    finally:
        stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
