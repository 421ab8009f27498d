"""How close the scouts' forecast comes to the project it forecasts, on the sample grid.

    python bench/forecast.py [--workers 2]

Starts the embedded grid (engine on, gb2's basf2 stand-in unless basf2 is on PATH) and
runs scouted projects over the sample catalogue's generic MC collection and proc13
data (10 input files of 150 to 400 events) through the real commands: the ntuple
example as it is, and the same analysis with a module that costs 5 ms of CPU per
event (so that events, not start-up, dominate, as in real analyses). For each, the
forecast ``gb2_job_status -p P --json`` shows once the scouts end is compared with
the project as it ran: the CPU time, wall time and peak memory every job reported in
its ``gb2_usage.json`` (``gb2_job_output``), and the output the catalogue holds
(``gb2_ds_query_file``). Ratios are forecast / measured; the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
INPUTS = ("/belle/collection/MC/MC15ri_generic_4S_v1,"
          "/belle/Data/release-06-00-08/DB00002392/proc13/prod00029531/e0018/4S/r00000/mdst")  # fmt: skip
HEAVY = """import time
import basf2 as b2
import modularAnalysis as ma
class Work(b2.Module):
    def event(self):
        end = time.process_time() + 0.005
        while time.process_time() < end:
            pass
main = b2.create_path()
ma.inputMdstList(filelist=['mdst.root'], path=main)
main.add_module(Work())
ma.fillParticleList('pi+:all', 'p > 0.1', path=main)
ma.variablesToNtuple('pi+:all', ['p', 'E', 'pt'], filename='pions.root', path=main)
b2.process(main)
"""


def gb2(env: dict[str, str], *argv: str, cwd: Path | None = None) -> dict:
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:], "--json"], env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def measure(env: dict[str, str], project: str, work: Path) -> dict:
    """The project as it ran: its jobs' own usage reports and the catalogue's outputs."""
    status = gb2(env, "gb2_job_status", "-p", project)
    scouts = {s["job_id"] for s in status["scouting"][project]["scouts"]}
    primaries = [j["job_id"] for j in status["jobs"] if j["job_id"] not in scouts]
    gb2(env, "gb2_job_output", "-p", project, "--dir", str(work))
    usage = [json.loads((work / "log" / project / str(j) / "gb2_usage.json").read_text()) for j in primaries]
    files = gb2(env, "gb2_ds_query_file", project, "-m", "size")["files"]
    return {
        "jobs": len(primaries),
        "cpu_hours": sum(u["cpu_seconds"] for u in usage) / 3600,
        "job_cpu_longest": max(u["cpu_seconds"] for u in usage),
        "job_wall_longest": max(u["wall_seconds"] for u in usage),
        "wall_hours_total": sum(u["wall_seconds"] for u in usage) / 3600,
        "output_bytes": sum(f["size"] for f in files),
        "peak_mb": max(u["peak_rss_mb"] for u in usage),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-forecast-"))
    env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
           "GB2_DATA_DIR": str(work / "data"), "GB2_PROFILE": "bench"}  # fmt: skip
    os.environ.update(env)

    from gb2.client.diracx import DiracX
    from gb2.client.tokens import TokenStore
    from gb2.config import Config, Profile
    from gb2.server.runner import EmbeddedServer
    from gb2.server.settings import ServerSettings, User
    from tests.helpers import browser_approval

    server = EmbeddedServer(ServerSettings(data_dir=work / "server", users=[User("alice")], workers=args.workers,
                                           heartbeat_seconds=2, engine_poll_seconds=0.2)).start()  # fmt: skip
    try:
        config = Config()
        config.profiles["bench"] = Profile("bench", "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio")
        config.save()
        dx = DiracX(server.url, TokenStore.for_profile("bench"))
        dx.login("vo:belle group:belle", browser_approval(server, "alice"), interval=0.05)
        heavy = work / "heavy_analysis.py"
        heavy.write_text(HEAVY)
        cases = (("ntuple example", ROOT / "steering_examples" / "ntuple_analysis.py"), ("5 ms CPU per event", heavy))
        print(f"sample grid: {INPUTS.count(',') + 1} datasets, 10 files of 150-400 events; {args.workers} job slots; "
              "scouts: 2 (50 and 100 events); machine shared with other work")  # fmt: skip
        header = f"{'case':<20} {'figure':<22} {'forecast':>12} {'measured':>12} {'ratio':>6}"
        print(header)
        for k, (label, steering) in enumerate(cases):
            project = f"fc{k}{int(time.time()) % 100000}"
            gb2(env, "gbasf2", str(steering), "-p", project, "-s", "light-2511-gacrux", "-i", INPUTS, "--force")
            final = gb2(env, "gb2_project_summary", "-p", project, "--wait", "--interval", "1")
            if final["projects"][0]["status"] != "Done":
                raise SystemExit(f"{project} did not end Done: {final['projects'][0]['counts']}")
            forecast = gb2(env, "gb2_job_status", "-p", project)["scouting"][project]["forecast"]
            measured = measure(env, project, work)
            rows = (
                ("jobs", forecast["jobs"], measured["jobs"]),
                ("CPU hours (all jobs)", forecast["cpu_hours"], measured["cpu_hours"]),
                ("longest job CPU s", forecast["job_cpu_seconds_longest"], measured["job_cpu_longest"]),
                ("longest job wall s", forecast["job_wall_seconds_longest"], measured["job_wall_longest"]),
                ("job wall hours (all)", forecast["wall_hours_total"], measured["wall_hours_total"]),
                ("output bytes", forecast["output_bytes"], measured["output_bytes"]),
            )
            for name, want, got in rows:
                ratio = want / got if got else float("nan")
                print(f"{label:<20} {name:<22} {want:>12.4g} {got:>12.4g} {ratio:>6.2f}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
