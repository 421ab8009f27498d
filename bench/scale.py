"""Scale figures: bulk submission and the status of a big project, through the real CLI.

    python bench/scale.py [--submit 10000] [--jobs 100000]

Starts an embedded server (engine off: the jobs are accepted, not run), submits
``--submit`` jobs with gb2's idempotent bulk submitter and times it (target: 10,000
jobs in 10 s), grows the project to ``--jobs`` jobs, then times
``gb2_job_status -p <project>``, its ``--json`` form and ``gb2_project_summary``
as subprocesses writing to a file (target: 100,000 jobs in 2 s), then kills,
reschedules and deletes the jobs of a gbasf2 submission in bulk. The baseline
``python -c pass`` is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(argv: list[str], env: dict, out: Path) -> float:
    with open(out, "w") as f:
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, env=env, text=True)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submit", type=int, default=10000, help="jobs to submit and time")
    parser.add_argument("--jobs", type=int, default=100000, help="size of the project whose status is timed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inputs", type=int, default=10000, help="input files of the gbasf2 submission timed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-"))
    env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
           "GB2_DATA_DIR": str(work / "data"), "GB2_PROFILE": "bench"}  # fmt: skip
    os.environ.update(env)

    from gb2.client.diracx import DiracX
    from gb2.client.tokens import TokenStore
    from gb2.config import Config, Profile
    from gb2.jobs import jdl
    from gb2.jobs.submit import Submitter
    from gb2.server.runner import EmbeddedServer
    from gb2.server.settings import ServerSettings, User
    from tests.helpers import browser_approval

    server = EmbeddedServer(ServerSettings(data_dir=work / "server", run_engine=False, users=[User("alice")])).start()
    try:
        config = Config()
        config.profiles["bench"] = Profile("bench", "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio")
        config.save()
        dx = DiracX(server.url, TokenStore.for_profile("bench"))
        dx.login("vo:belle group:belle", browser_approval(server, "alice"), interval=0.05)

        def jdls(start: int, stop: int) -> tuple[list[str], list[str]]:
            names = [f"big_{i:06d}" for i in range(start, stop)]
            texts = [
                jdl.dumps({"Executable": "basf2helper.py", "JobName": n, "JobGroup": "big", "JobType": "User",
                           "Arguments": f"--steering s.py --output-lpn /belle/user/alice/big --index {i}",
                           "InputData": [f"LFN:/belle/MC/bench/sub00/f{i:06d}.root"], "CPUTime": 600})  # fmt: skip
                for i, n in zip(range(start, stop), names, strict=True)
            ]
            return texts, names

        texts, names = jdls(0, args.submit)
        start = time.perf_counter()
        Submitter(dx, "alice", "big").submit(texts, names)
        submit_s = time.perf_counter() - start
        print(f"submit {args.submit} jobs (batches of 20, 4 in flight): {submit_s:.2f} s "
              f"= {args.submit / submit_s:.0f} jobs/s  (target: 10,000 in 10 s)")  # fmt: skip
        for first in range(args.submit, args.jobs, 20000):
            texts, names = jdls(first, min(first + 20000, args.jobs))
            Submitter(dx, "alice", "big").submit(texts, names)
        print(f"project size: {dx.search(['JobID'], [{'parameter': 'JobGroup', 'operator': 'eq', 'value': 'big'}], per_page=1).total} jobs")

        bindir = Path(sys.executable).parent
        baseline = min(timed([sys.executable, "-c", "pass"], env, work / "out.txt") for _ in range(args.runs))
        print(f"python -c pass: {baseline * 1000:.0f} ms")

        # The whole gbasf2 command over a dataset of --inputs files: catalogue lookups,
        # planning, output datasets, sandbox, JDLs and the bulk submission. The catalogue
        # entries are made server-side (setup, not timed); the engine is off.
        catalog = server.state.services["rucio"]
        dataset = "/belle/user/alice/bench_input/sub00"
        catalog.add_did("alice", "user.alice", "/belle/user/alice/bench_input", "CONTAINER")
        catalog.add_did("alice", "user.alice", dataset, "DATASET")
        catalog.attach("alice", [{"scope": "user.alice", "name": "/belle/user/alice/bench_input",
                                  "dids": [{"scope": "user.alice", "name": dataset}]}])  # fmt: skip
        files = [{"scope": "user.alice", "name": f"{dataset}/mdst_{i:06d}.root", "bytes": 1000 + i,
                  "adler32": f"{i:08x}", "meta": {"events": 100}} for i in range(args.inputs)]  # fmt: skip
        for first in range(0, len(files), 5000):
            catalog.add_replicas("alice", "KEK-TMP-DISK-SE", files[first : first + 5000])
            catalog.attach("alice", [{"scope": "user.alice", "name": dataset,
                                      "dids": [{"scope": f["scope"], "name": f["name"]} for f in files[first : first + 5000]]}])  # fmt: skip
        argv = [str(bindir / "gbasf2"), str(ROOT / "steering_examples" / "ntuple_analysis.py"), "-p", "bench10k",
                "-s", "light-2511-gacrux", "-i", "/belle/user/alice/bench_input", "--force"]  # fmt: skip
        elapsed = timed(argv, env, work / "out.txt")
        made = dx.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": "bench10k"}], per_page=1).total
        print(f"gbasf2 over {args.inputs} input files: {made} jobs submitted in {elapsed:.2f} s, start to end "
              f"(target: 10,000 jobs in 10 s)")  # fmt: skip
        for label, argv in (
            ("gb2_job_status -p big", [str(bindir / "gb2_job_status"), "-p", "big"]),
            ("gb2_job_status -p big --json", [str(bindir / "gb2_job_status"), "-p", "big", "--json"]),
            ("gb2_project_summary -p big", [str(bindir / "gb2_project_summary"), "-p", "big"]),
        ):
            best = min(timed(argv, env, work / "out.txt") for _ in range(args.runs))
            with open(work / "out.txt") as produced:
                lines = sum(1 for _ in produced)
            print(f"{label:<30} {best:6.2f} s  ({lines} lines; best of {args.runs}; target for 100,000 jobs: 2 s)")
        # Bulk actions on the gbasf2 project (its jobs wait in Received: the engine is off).
        for tool in ("gb2_job_kill", "gb2_job_reschedule", "gb2_job_delete"):
            elapsed = timed([str(bindir / tool), "-p", "bench10k", "--force"], env, work / "out.txt")
            changed = (work / "out.txt").read_text().count("\n")
            print(f"{tool + ' -p bench10k':<30} {elapsed:6.2f} s  ({made} jobs, one run; output {changed} lines)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
