"""What ``gb2_project_analysis -p P --failures`` costs for a project with thousands of failed jobs.

    python bench/failures.py [--failed 3000] [--runs 3]

Starts an embedded server (engine off) and fills it as setup (not timed): a project of
``--failed`` Failed jobs of alice, each with its own output sandbox holding a basf2 log
whose error is one of five kinds (numbers, paths and job ids differ from job to job), so
every log must be read. Then runs the real command, as a process:

* cold: an empty log cache (every sandbox listed, presigned and downloaded, 8 at a time);
* warm: the same again, every digest from the cache (no sandbox request);
* baseline: ``gb2_project_analysis -p P`` (gbasf2's tree, one server-side summary).

Prints the median wall time of each and the peak resident memory (``/usr/bin/time``'s
maximum RSS) of the cold run, and checks the clusters found (five). The machine may be
shared: compare with the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
KINDS = (
    "[FATAL] RuntimeError: cannot open file /belle/user/alice/in/file_{i}.root (job {job})",
    "[ERROR] Variable 'mbc_{i}' is not defined  {{ module: VariablesToNtuple }}",
    "Traceback (most recent call last):\n  File \"steer.py\", line {i}, in <module>\nKeyError: 'pi+:good_{i}'",
    "[FATAL] Particle list K_S0:v0_{i} does not exist  {{ module: ParticleCombiner }}",
    "[ERROR] Out of memory after {i} events at 0x7f{i:08x}",
)


def fill(server, home: Path, failed: int) -> None:  # type: ignore[no-untyped-def]
    from gb2.jobs import jdl
    from gb2.jobs.sandbox import make_archive
    from gb2.jobs.states import FAILED, Minor
    from gb2.server.diracx.jobdb import Caller
    from tests.helpers import login

    jobdb = server.state.services["jobs"]
    jobdb.max_jobs_per_submission = 5000  # setup only
    caller = Caller("alice", "belle", "belle", ("NormalUser",))
    texts = [jdl.dumps({"Executable": "basf2helper.py", "JobName": f"many_{i:05d}", "JobGroup": "many",
                        "JobType": "User", "CPUTime": 600}) for i in range(failed)]  # fmt: skip
    ids = [row["JobID"] for start in range(0, failed, 5000) for row in jobdb.submit(caller, texts[start : start + 5000])]
    jobdb.set_status_now(ids, FAILED, Minor.APP_ERRORS, "basf2 failed (exit status 1)", force=True)
    dx = login(server, "alice", home)
    folder = home / "logs"
    folder.mkdir()

    def sandbox(item: tuple[int, int]) -> None:
        i, job = item
        log = folder / f"{job}.log"
        log.write_text(f"[INFO] Steering file: steer.py\n[INFO] job {job}\n" + KINDS[i % 5].format(i=i, job=job) + "\n")
        info = folder / f"{job}.info"
        info.write_text(json.dumps({"JobID": job, "RescheduleCounter": 0, "CPUTime": 600}))
        pfn = dx.upload_sandbox(make_archive([(log, "Script1_basf2helper.py.log"), (info, "job.info")]))
        dx.assign_output_sandbox(job, pfn)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(sandbox, enumerate(ids)))


def timed(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in kB, stdout) of one command run as a process."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", str(BIN / args[0]), *args[1:]], env=env, capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{args}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]), proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failed", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from gb2.config import Config, Profile
    from gb2.server.runner import EmbeddedServer
    from gb2.server.settings import ServerSettings, User

    home = Path(tempfile.mkdtemp(prefix="gb2-bench-failures-"))
    env = {**os.environ, "GB2_CONFIG_DIR": str(home / "config"), "GB2_CACHE_DIR": str(home / "cache"),
           "GB2_DATA_DIR": str(home / "data")}  # fmt: skip
    os.environ.update({k: env[k] for k in ("GB2_CONFIG_DIR", "GB2_CACHE_DIR", "GB2_DATA_DIR")})
    server = EmbeddedServer(ServerSettings(data_dir=home / "server", run_engine=False, users=[User("alice")])).start()
    try:
        config = Config()
        config.profiles["bench"] = Profile("bench", "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio",
                                           login_secret_file=str(server.settings.login_secret_path))  # fmt: skip
        config.active_profile = "bench"
        config.save()
        start = time.perf_counter()
        fill(server, home, args.failed)
        print(f"setup: {args.failed} failed jobs with their own logs in {time.perf_counter() - start:.1f} s")
        subprocess.run([str(BIN / "gb2_proxy_init")], env=env, capture_output=True, check=True)
        cold, warm, base, peak = [], [], [], []
        for _ in range(args.runs):
            subprocess.run(["rm", "-rf", str(home / "cache" / "logs")], check=True)
            wall, rss, out = timed(env, "gb2_project_analysis", "-p", "many", "--failures", "--json")
            report = json.loads(out)
            assert report["failed"] == args.failed and len(report["clusters"]) == 5, report["clusters"]
            assert report["logs"]["read"] == args.failed, report["logs"]
            cold.append(wall)
            peak.append(rss)
            wall, _, out = timed(env, "gb2_project_analysis", "-p", "many", "--failures", "--json")
            assert json.loads(out)["logs"]["cached"] == args.failed
            warm.append(wall)
            base.append(timed(env, "gb2_project_analysis", "-p", "many")[0])
        median = statistics.median
        print(f"{args.failed} failed jobs, 5 clusters, median of {args.runs} runs (machine possibly shared):")
        print(f"  cold (every log read)  : {median(cold):6.2f} s  ({args.failed / median(cold):.0f} logs/s), "
              f"peak RSS {max(peak) / 1024:.0f} MB")  # fmt: skip
        print(f"  warm (digests cached)  : {median(warm):6.2f} s")
        print(f"  baseline (status tree) : {median(base):6.2f} s")
        print(f"  warm / baseline        : {median(warm) / median(base):6.2f}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
