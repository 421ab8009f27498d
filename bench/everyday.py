"""Everyday commands against a warm embedded server: wall time and peak memory.

    python bench/everyday.py [--runs 30] [--rucio PATH] [--dirac PATH]

On a fresh set of gb2 folders (the default, embedded profile): logs in, runs a
three-job project to the end, then times, alternately and ``--runs`` times each,

* the baselines ``python -c pass`` and, where installed, ``rucio --help`` and
  DiracX's ``dirac --help`` (``--rucio``/``--dirac``; by default the contract suite's
  real-server venvs under ~/.cache/gb2-real-servers);
* ``gb2_job_status -p P``, ``gb2_project_summary``, ``gb2_proxy_info`` and
  ``gb2_ds_list <LPN>`` (target: at most 100 ms each, median).

Prints the median wall time of each, its ratio to ``python -c pass`` and to
``rucio --help``, and the child's peak RSS. Use the tools of a regular install
(``pip install .``): an editable install adds the import of its path finder
(about 10 ms) to every Python process, the baseline's too.
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # the bench helpers

from bench.measure import run_measured  # noqa: E402

UUBAR = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025676/s00/e1003/4S/r00000/uubar/mdst"
REAL = Path.home() / ".cache" / "gb2-real-servers" / "venvs"
TARGET_MS = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rucio", default=str(REAL / "rucio" / "bin" / "rucio"))
    parser.add_argument("--dirac", default=str(REAL / "diracx" / "bin" / "dirac"))
    args = parser.parse_args()
    report = measure(args.runs, args.rucio, args.dirac)
    print_report(report, args.runs)
    return 0 if all(row["ms"] <= TARGET_MS for row in report if row["target"]) else 1


def measure(runs: int, rucio: str | None = None, dirac: str | None = None) -> list[dict]:
    bindir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-everyday-"))
    env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
           "GB2_DATA_DIR": str(work / "data")}  # fmt: skip
    for key in ("GB2_PROFILE", "GB2_SITE"):
        env.pop(key, None)

    def gb2(*argv: str) -> str:
        proc = subprocess.run([str(bindir / argv[0]), *argv[1:]], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    project = f"everyday{int(time.time())}"
    try:
        gb2("gb2_proxy_init")
        gb2("gbasf2", str(ROOT / "steering_examples" / "ntuple_analysis.py"), "-p", project, "-s", "light-2511-gacrux",
            "-i", UUBAR, "--force")  # fmt: skip
        gb2("gb2_project_summary", "-p", project, "--wait", "--interval", "0.5", "--timeout", "120")
        commands: list[tuple[str, list[str], bool]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], False),
        ]
        for label, path in (("rucio --help", rucio), ("dirac --help", dirac)):
            if path and Path(path).exists():
                commands.append((label, [path, "--help"], False))
        for argv in (["gb2_job_status", "-p", project], ["gb2_project_summary"], ["gb2_proxy_info"],
                     ["gb2_ds_list", UUBAR]):  # fmt: skip
            label = " ".join(argv).replace(project, "P").replace(UUBAR, "LPN")
            commands.append((label, [str(bindir / argv[0]), *argv[1:]], True))
        for _, argv, _ in commands:  # warm the file cache and the server's connections
            run_measured(argv, env)
        samples: dict[str, list[tuple[float, int]]] = {label: [] for label, _, _ in commands}
        for _ in range(runs):  # alternately, so that a busy moment weighs on every command alike
            for label, argv, _ in commands:
                samples[label].append(run_measured(argv, env))
    finally:
        subprocess.run([str(bindir / "gb2_config"), "server", "stop"], env=env, capture_output=True)
    base = statistics.median(t for t, _ in samples["python -c pass"])
    rucio_ms = statistics.median(t for t, _ in samples["rucio --help"]) if "rucio --help" in samples else None
    return [{"command": label, "ms": statistics.median(t for t, _ in samples[label]) * 1000,
             "ratio": statistics.median(t for t, _ in samples[label]) / base,
             "vs_rucio": (statistics.median(t for t, _ in samples[label]) / rucio_ms) if rucio_ms else None,
             "rss_mb": max(r for _, r in samples[label]) / 1024, "target": target}
            for label, _, target in commands]  # fmt: skip


def print_report(report: list[dict], runs: int) -> None:
    print(f"everyday commands, warm embedded server (median of {runs}, run alternately; peak RSS of the process)")
    for row in report:
        vs = f"  {row['vs_rucio']:.2f}x rucio --help" if row["vs_rucio"] is not None else ""
        target = f"  target <= {TARGET_MS:.0f} ms: {'met' if row['ms'] <= TARGET_MS else 'MISSED'}" if row["target"] else ""
        print(f"  {row['command']:<28} {row['ms']:7.1f} ms  {row['ratio']:5.2f}x python -c pass{vs}"
              f"  RSS {row['rss_mb']:5.1f} MB{target}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
