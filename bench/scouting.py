"""What scouting costs a big submission: time to submit and requests sent, against --noscout.

    python bench/scouting.py [--inputs 10000] [--runs 3]

Starts two embedded servers (engine off: jobs are accepted, not run) with the same
catalogue of ``--inputs`` files: one holds scouted jobs itself (gb2's server), one
does not (``scouting=False``, like a stock DiracX 0.7, where gb2 holds them). Then,
through the real ``gbasf2`` command (a subprocess, from start to end), in the same run:

* ``--noscout``: one job per input file;
* scouted on gb2's server: 2 scouts, then every job naming them;
* scouted on a DiracX without scouting: 2 scouts and the held plan (the jobs wait);
  then the release: the scouts are marked Done with a report (the job wrapper's part,
  done by the bench), and the ``gb2_project_summary -p`` that submits the held jobs is
  timed, against the same command on the ``--noscout`` project.

Each is timed ``--runs`` times directly (median and peak memory of the process), and
run once more through a counting proxy (tests/faults/proxy.py, no faults) for the
requests it sends, by route.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
STEERING = ROOT / "steering_examples" / "ntuple_analysis.py"
DATASET = "/belle/user/alice/bench_input"


def run_timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one command run as a subprocess (reaped with wait4 for its rusage)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed: {err.read().strip()}")
        return elapsed, usage.ru_maxrss / 1024, out.read()


def route_kind(route: str) -> str:
    """A route with its ids and names left out, so that runs compare."""
    method, path = route.split(" ", 1)
    path = path.split("?", 1)[0]
    if path.startswith("/rucio/dids/"):
        tail = path.rstrip("/").rsplit("/", 1)[-1]
        return f"{method} /rucio/dids/<did>" + (f"/{tail}" if tail in ("files", "meta", "dids") else "")
    if path.startswith("/s3/") or path.startswith("/se/"):
        return f"{method} {path.split('/')[1]} (object store)"
    return f"{method} " + re.sub(r"/\d+(/|$)", r"/<id>\1", path)


def seed_catalogue(server, inputs: int) -> None:  # type: ignore[no-untyped-def]
    """``inputs`` files of 100 events in one user dataset, made server-side (setup, not timed)."""
    catalog = server.state.services["rucio"]
    block = f"{DATASET}/sub00"
    catalog.add_did("alice", "user.alice", DATASET, "CONTAINER")
    catalog.add_did("alice", "user.alice", block, "DATASET")
    catalog.attach("alice", [{"scope": "user.alice", "name": DATASET, "dids": [{"scope": "user.alice", "name": block}]}])
    files = [{"scope": "user.alice", "name": f"{block}/mdst_{i:06d}.root", "bytes": 1000 + i, "adler32": f"{i:08x}",
              "meta": {"events": 100}} for i in range(inputs)]  # fmt: skip
    for first in range(0, len(files), 5000):
        part = files[first : first + 5000]
        catalog.add_replicas("alice", "KEK-TMP-DISK-SE", part)
        catalog.attach("alice", [{"scope": "user.alice", "name": block,
                                  "dids": [{"scope": f["scope"], "name": f["name"]} for f in part]}])  # fmt: skip


def pass_scouts(dx, scout_ids: list[int], work: Path) -> None:  # type: ignore[no-untyped-def]
    """The job wrapper's part for the scouts (the engine is off): Done, with a usage report."""
    from gb2.jobs.sandbox import archive_of

    for k, job in enumerate(scout_ids):
        for state in ("Checking", "Waiting", "Matched", "Running"):
            dx.set_job_status([job], status=state, source="JobWrapper")
        events = 50 * (k + 1)
        usage = {"version": 1, "job_id": job, "site": "LCG.KEK.jp", "output_se": "KEK-TMP-DISK-SE", "scout": True,
                 "events_limit": events, "events_processed": events, "success": True, "exit_status": 0,
                 "cpu_seconds": 2.0 + 0.01 * events, "wall_seconds": 2.5 + 0.012 * events, "peak_rss_mb": 400.0,
                 "output_bytes": 20000 + 900 * events}  # fmt: skip
        dx.assign_output_sandbox(job, dx.upload_sandbox(archive_of({"gb2_usage.json": json.dumps(usage).encode()})))
        dx.set_job_status([job], status="Done", minor="Execution Complete", application="Done", source="JobWrapper")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=10000, help="input files, one job each")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each arm (median shown)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-scouting-"))
    base = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
            "GB2_DATA_DIR": str(work / "data")}  # fmt: skip
    os.environ.update(base)

    from gb2.client.diracx import DiracX
    from gb2.client.tokens import TokenStore
    from gb2.config import Config, Profile
    from gb2.server.runner import EmbeddedServer
    from gb2.server.settings import ServerSettings, User
    from tests.faults.proxy import FaultProxy
    from tests.helpers import browser_approval

    servers, proxies, clients = {}, {}, {}
    config = Config()
    try:
        for name, scouting in (("gb2", True), ("stock", False)):
            proxy = FaultProxy(max_requests=10_000_000, max_seconds=36000)
            server = EmbeddedServer(ServerSettings(data_dir=work / f"server-{name}", run_engine=False,
                                                   users=[User("alice")], scouting=scouting,
                                                   public_url=proxy.url)).start()  # fmt: skip
            proxy.set_upstream(server.url)
            proxy.start()
            servers[name], proxies[name] = server, proxy
            config.profiles[name] = Profile(name, "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio")
            config.profiles[f"{name}-counted"] = Profile(f"{name}-counted", "remote", diracx_url=proxy.url,
                                                         rucio_url=f"{proxy.url}/rucio")  # fmt: skip
        config.save()
        for name, server in servers.items():
            for profile in (name, f"{name}-counted"):
                dx = DiracX(server.url, TokenStore.for_profile(profile))
                dx.login("vo:belle group:belle", browser_approval(server, "alice"), interval=0.05)
            clients[name] = DiracX(server.url, TokenStore.for_profile(name))
            seed_catalogue(server, args.inputs)
        print(f"catalogue: {args.inputs} input files of 100 events on each server; machine shared with other work")

        counter = iter(range(1, 10_000))
        arms = (("--noscout", "gb2", ["--noscout"]), ("scouts, held by gb2's server", "gb2", []),
                ("scouts, held by gb2 (stock DiracX)", "stock", []))  # fmt: skip
        results: dict[str, dict] = {label: {"all": [], "peaks": [], "projects": []} for label, _, _ in arms}

        def submit(server: str, profile: str, extra: list[str]) -> tuple[str, float, float, dict]:
            project = f"b{next(counter)}"
            argv = [str(BIN / "gbasf2"), str(STEERING), "-p", project, "-s", "light-2511-gacrux", "-i", DATASET,
                    "--force", "--json", *extra]  # fmt: skip
            seconds, peak, out = run_timed(argv, {**base, "GB2_PROFILE": profile})
            return project, seconds, peak, json.loads(out)

        for _ in range(args.runs):  # the arms take turns, so a change in the machine's load hits them alike
            for label, server, extra in arms:
                project, seconds, peak, sub = submit(server, server, extra)
                results[label]["all"].append(seconds)
                results[label]["peaks"].append(peak)
                results[label]["projects"].append((project, sub))
        for label, server, extra in arms:  # once more through the counting proxy
            proxies[server].stats.events.clear()
            submit(server, f"{server}-counted", extra)
            routes = Counter(route_kind(e.route) for e in proxies[server].stats.events)
            r = results[label]
            r.update(seconds=statistics.median(r["all"]), peak=max(r["peaks"]), requests=sum(routes.values()),
                     routes=routes)  # fmt: skip

        base_s = results["--noscout"]["seconds"]
        print(f"\n{'gbasf2 over ' + str(args.inputs) + ' files':<40} {'median s':>9} {'x noscout':>9} {'requests':>9} "
              f"{'peak MB':>8}  runs (s)")  # fmt: skip
        for label, r in results.items():
            jobs = r["projects"][0][1]
            made = len(jobs["job_ids"]) + len(jobs["scout_ids"])
            runs = ", ".join(f"{t:.2f}" for t in r["all"])
            print(f"{label:<40} {r['seconds']:9.2f} {r['seconds'] / base_s:9.2f} {r['requests']:9d} {r['peak']:8.0f}  "
                  f"{runs}  ({made} jobs in DiracX)")  # fmt: skip
        for label, r in results.items():
            top = ", ".join(f"{route} {n}" for route, n in r["routes"].most_common(6))
            print(f"  {label}: {top}")

        # The release of the held jobs, by the next command that looks, against the same command without it.
        dx = clients["stock"]
        release_times, release_peaks, looks = [], [], []
        for project, sub in results["scouts, held by gb2 (stock DiracX)"]["projects"]:
            pass_scouts(dx, sub["scout_ids"], work)
            seconds, peak, out = run_timed([str(BIN / "gb2_project_summary"), "-p", project, "--json"],
                                           {**base, "GB2_PROFILE": "stock"})  # fmt: skip
            view = json.loads(out)["projects"][0]["scouts"]
            assert view["released_now"] == args.inputs, view
            release_times.append(seconds)
            release_peaks.append(peak)
        for project, _ in results["--noscout"]["projects"]:
            seconds, _, _ = run_timed([str(BIN / "gb2_project_summary"), "-p", project, "--json"],
                                      {**base, "GB2_PROFILE": "gb2"})  # fmt: skip
            looks.append(seconds)
        counted_project, counted_sub = f"b{next(counter)}", None
        proxy = proxies["stock"]
        argv = [str(BIN / "gbasf2"), str(STEERING), "-p", counted_project, "-s", "light-2511-gacrux", "-i", DATASET,
                "--force", "--json"]  # fmt: skip
        _, _, out = run_timed(argv, {**base, "GB2_PROFILE": "stock"})
        counted_sub = json.loads(out)
        pass_scouts(dx, counted_sub["scout_ids"], work)
        proxy.stats.events.clear()
        run_timed([str(BIN / "gb2_project_summary"), "-p", counted_project, "--json"],
                  {**base, "GB2_PROFILE": "stock-counted"})  # fmt: skip
        routes = Counter(route_kind(e.route) for e in proxy.stats.events)
        print(f"\nrelease of {args.inputs} held jobs by gb2_project_summary -p: median {statistics.median(release_times):.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in release_times)}), peak {max(release_peaks):.0f} MB, "
              f"{sum(routes.values())} requests; the same command on the --noscout project: "
              f"{statistics.median(looks):.2f} s")  # fmt: skip
        print("  " + ", ".join(f"{route} {n}" for route, n in routes.most_common(8)))
        held = results["scouts, held by gb2 (stock DiracX)"]
        total = held["seconds"] + statistics.median(release_times)
        print(f"held by gb2, submission + release: {total:.2f} s = {total / base_s:.2f} x --noscout; "
              f"requests {held['requests'] + sum(routes.values())} vs {results['--noscout']['requests']}")  # fmt: skip
    finally:
        for proxy in proxies.values():
            proxy.stop()
        for server in servers.values():
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
