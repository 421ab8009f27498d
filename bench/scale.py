"""Scale figures through the real CLI: a 100,000-job gbasf2 submission and the status of the project.

    python bench/scale.py [--jobs 100000] [--runs 3] [--actions] [--work DIR [--status-only]]

Starts an embedded server as its own process (``python -m gb2.server``, engine off: the
jobs are accepted, not run), registers ``--jobs`` input files in its catalogue (setup,
not timed), and logs alice in. Then, with ``python -c pass`` as the baseline of the run:

* submission: the whole ``gbasf2 <steering> -p P -s <release> -i <dataset> --force`` over
  those files, one job per file (target: 100,000 jobs in 15 s), with the peak memory of
  gbasf2 and of the server, while ``gb2_job_status -p`` of a small project runs every half
  second: its latency during the submission against the same command when idle (the
  server must stay responsive);
* status at scale: ``gb2_job_status -p P`` and ``--json`` on that project, writing to a
  file (targets: 0.5 s and 0.8 s for 100,000 jobs), median of ``--runs``, peak memory;
* ``--actions``: then kills, reschedules and deletes the project's jobs in bulk.

``--work DIR`` keeps the server's state (and the clients' homes) in DIR; a later
``--work DIR --status-only`` restarts a server on it and times only the status commands on the
project already submitted there (to iterate on them without submitting again).

Run it with the interpreter of the gb2 install to measure (its ``gb2`` and its commands).
The machine may be shared: compare against the baseline and a "before" run made alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # the bench helpers; gb2 itself is the running interpreter's

from bench.measure import run_measured  # noqa: E402

RELEASE = "light-2511-gacrux"
STEERING = ROOT / "steering_examples" / "ntuple_analysis.py"
INPUT = "/belle/user/alice/bench_input"


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_peak_rss(pid: int) -> None:
    """Start a new peak (Linux 4.0+): the server's figure is then the submission's alone."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


class Grid:
    """A server process with alice logged in through a profile "bench" of a private home."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
                    "GB2_DATA_DIR": str(work / "data"), "GB2_PROFILE": "bench"}  # fmt: skip
        self.bindir = Path(sys.executable).parent
        argv = [sys.executable, "-m", "gb2.server", "--port", "0", "--data-dir", str(work / "server"),
                "--user", "alice", "--no-engine"]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(work / "server.log", "wb"),  # noqa: SIM115
                                     text=True, cwd=work, env=self.env)  # fmt: skip
        self.url = (self.proc.stdout.readline() if self.proc.stdout else "").strip()
        if not self.url:
            raise SystemExit(f"the server did not start: see {work / 'server.log'}")
        os.environ.update(self.env)
        from gb2.config import Config, Profile

        config = Config()
        config.profiles["bench"] = Profile("bench", "remote", diracx_url=self.url, rucio_url=f"{self.url}/rucio",
                                           login_secret_file=str(work / "server" / "keys" / "login-secret"))  # fmt: skip
        config.save()
        self.tool("gb2_proxy_init")

    def tool(self, *argv: str) -> str:
        proc = subprocess.run([str(self.bindir / argv[0]), *argv[1:]], env=self.env, capture_output=True, text=True,
                              cwd=self.work)  # fmt: skip
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def register_inputs(self, count: int) -> None:
        """``count`` files in one dataset of alice's, with replicas on a TMP storage element."""
        from gb2.session import Session

        rucio = Session.open("bench").rucio
        dataset = f"{INPUT}/sub00"
        rucio.add_container("user.alice", INPUT, exist_ok=True)
        rucio.add_dataset("user.alice", dataset, exist_ok=True)
        rucio.attach("user.alice", INPUT, [("user.alice", dataset)])
        for first in range(0, count, 1000):
            files = [{"scope": "user.alice", "name": f"{dataset}/mdst_{i:06d}.root", "bytes": 1000 + i,
                      "adler32": f"{i:08x}", "meta": {"events": 100}} for i in range(first, min(first + 1000, count))]  # fmt: skip
            rucio.add_replicas("KEK-TMP-DISK-SE", files)
            rucio.attach("user.alice", dataset, [(f["scope"], f["name"]) for f in files])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


PROJECT = "bench100k"


def status_figures(grid: Grid, project: str, runs: int, out: Path) -> dict:
    """``gb2_job_status -p`` and ``--json`` on the project: median wall time of ``runs``, peak RSS."""
    figures: dict = {}
    for key, extra in (("status", []), ("status_json", ["--json"])):
        argv = [str(grid.bindir / "gb2_job_status"), "-p", project, *extra]
        samples = [run_measured(argv, grid.env, stdout=out, check=True) for _ in range(runs)]
        figures[f"{key}_s"] = statistics.median(t for t, _ in samples)
        figures[f"{key}_runs_s"] = [t for t, _ in samples]
        figures[f"{key}_rss_mb"] = max(kb for _, kb in samples) / 1024
        figures[f"{key}_lines"] = out.read_text().count("\n")
    return figures


def baseline_s(env: dict) -> float:
    return statistics.median(run_measured([sys.executable, "-c", "pass"], env)[0] for _ in range(9))


def measure_status_only(work: Path, runs: int = 3) -> dict:
    """The status figures of the project a previous ``--work`` run submitted."""
    if not (work / "server").is_dir():
        raise SystemExit(f"{work} holds no server state: run once with --work {work} (without --status-only)")
    grid = Grid(work)
    try:
        figures = {"baseline_ms": baseline_s(grid.env) * 1000}
        figures.update(status_figures(grid, PROJECT, runs, work / "out.txt"))
        return figures
    finally:
        grid.stop()


def measure(jobs: int = 100_000, runs: int = 3, actions: bool = False, work: Path | None = None) -> dict:
    if work is None:
        work = Path(tempfile.mkdtemp(prefix="gb2-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    grid = Grid(work)
    out = work / "out.txt"
    try:
        grid.register_inputs(jobs)
        grid.tool("gbasf2", str(STEERING), "-p", "small", "-s", RELEASE, "--repetition", "3", "--force")
        status = [str(grid.bindir / "gb2_job_status"), "-p", "small"]
        baseline = baseline_s(grid.env)
        idle = [run_measured(status, grid.env)[0] for _ in range(15)]

        during: list[float] = []
        done = threading.Event()

        def poll_status() -> None:  # as a user's watch loop would, twice a second
            while not done.wait(0.5):
                during.append(run_measured(status, grid.env)[0])

        project = PROJECT
        reset_peak_rss(grid.proc.pid)
        poller = threading.Thread(target=poll_status, daemon=True)
        poller.start()
        argv = [str(grid.bindir / "gbasf2"), str(STEERING), "-p", project, "-s", RELEASE, "-i", INPUT, "--force"]
        submit_s, submit_kb = run_measured(argv, grid.env, stdout=out, check=True)
        done.set()
        poller.join()
        server_mb = peak_rss_mb(grid.proc.pid)
        from gb2.session import Session

        made = Session.open("bench").diracx.search(
            ["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": project}], per_page=1).total  # fmt: skip

        figures: dict = {"baseline_ms": baseline * 1000, "inputs": jobs, "jobs": made, "submit_s": submit_s, "submit_rss_mb": submit_kb / 1024,
                         "server_rss_mb": server_mb, "idle_status_ms": statistics.median(idle) * 1000,
                         "during_status_ms": statistics.median(during) * 1000 if during else float("nan"),
                         "during_status_max_ms": max(during) * 1000 if during else float("nan"),
                         "during_status_count": len(during)}  # fmt: skip
        figures.update(status_figures(grid, project, runs, out))
        if actions:
            for tool in ("gb2_job_kill", "gb2_job_reschedule", "gb2_job_delete"):
                elapsed, kb = run_measured([str(grid.bindir / tool), "-p", project, "--force"], grid.env, stdout=out,
                                           check=True)  # fmt: skip
                figures[tool] = (elapsed, kb / 1024)
        return figures
    finally:
        grid.stop()


def print_report(f: dict) -> None:
    base = f["baseline_ms"]
    print(f"python -c pass (baseline): {base:.1f} ms")
    if "submit_s" in f:
        print_submission(f)
    for key, label, target in (("status", "gb2_job_status -p P", 0.5), ("status_json", "gb2_job_status -p P --json", 0.8)):
        s = f[f"{key}_s"]
        runs = ", ".join(f"{t:.2f}" for t in f.get(f"{key}_runs_s", []))
        print(f"{label:<28} {s:6.2f} s  ({f[f'{key}_lines']} lines; {s * 1000 / base:.0f}x python -c pass; peak RSS "
              f"{f[f'{key}_rss_mb']:.0f} MB; target {target} s: {'met' if s <= target else 'MISSED'}; runs {runs})")  # fmt: skip
    for tool in ("gb2_job_kill", "gb2_job_reschedule", "gb2_job_delete"):
        if tool in f:
            print(f"{tool + ' -p P':<28} {f[tool][0]:6.2f} s  (peak RSS {f[tool][1]:.0f} MB)")


def print_submission(f: dict) -> None:
    print(f"gbasf2 over {f['inputs']} input files, --force: {f['jobs']} jobs (scouts included) in {f['submit_s']:.2f} s = "
          f"{f['jobs'] / f['submit_s']:.0f} jobs/s"
          f"  (target: 100,000 jobs in 15 s: {'met' if f['submit_s'] <= 15 and f['jobs'] >= 100_000 else 'MISSED'});"
          f" peak RSS gbasf2 {f['submit_rss_mb']:.0f} MB, server {f['server_rss_mb']:.0f} MB")  # fmt: skip
    print(f"  gb2_job_status -p <3 jobs> during it: median {f['during_status_ms']:.0f} ms, max "
          f"{f['during_status_max_ms']:.0f} ms over {f['during_status_count']} runs (idle: {f['idle_status_ms']:.0f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="input files, one job each")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--actions", action="store_true", help="also kill, reschedule and delete the jobs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--work", type=Path, default=None, help="keep the server's state here (default: a new temporary "
                        "directory)")  # fmt: skip
    parser.add_argument("--status-only", action="store_true", help="with --work DIR of an earlier run: time only the "
                        "status commands on the project submitted there")  # fmt: skip
    args = parser.parse_args()
    if args.status_only:
        if args.work is None:
            parser.error("--status-only needs --work DIR (the directory of an earlier run)")
        figures = measure_status_only(args.work, args.runs)
    else:
        figures = measure(args.jobs, args.runs, args.actions, args.work)
    if args.json:
        print(json.dumps(figures))
    else:
        print_report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
