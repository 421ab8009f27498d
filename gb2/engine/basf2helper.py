"""The basf2 job wrapper: what a gbasf2 job runs on the worker node.

The JDL of a gb2 basf2 job runs ``basf2helper.py`` (from the site's software
area) with these arguments::

    --steering <file.py> --output-lpn <LPN> --index <n> [--basf2opt=<options>] [--random-seed <s>] [--release <r>]
    [--scout-events N] [--generation <g>]

It runs ``basf2 <file.py> -i <input> ... --job-information job_info.json
[--random-seed <s>] <options>`` with the inputs the job wrapper resolved
(``job.info``; a seed given in ``<options>`` wins, as basf2 takes the last), writes basf2's
output to ``Script1_basf2helper.py.log``, then uploads every output file to the
site's output SE as ``<LPN>/subXX/<stem>_<index>_job<JobID>_<reschedule>.<ext>``,
registers it (size, adler32, events, job id) and attaches it to its datablock.
``<reschedule>`` is the job's reschedule count plus ``--generation`` (given to a job that
replaces another, so that its outputs are the newest generation of their index).

Every job leaves ``gb2_usage.json`` in its output sandbox: the CPU time, wall time
and peak memory of basf2 (from the kernel's accounting of the child processes),
the events it processed and the size of every output. A scout job
(``--scout-events N``) stops basf2 after N events (``-n``, or the smaller ``-n``
the user gave), uploads and registers nothing (its outputs never mix with the
project's), and adds the plan figures its input sandbox carries
(``gb2_plan.json``): its ``gb2_usage.json`` is the scout report gb2's forecast is
made from, readable on any DiracX. ``--local`` runs the same steps on this machine
with no server (``gbasf2 --scout_local``).

ApplicationStatus tells the failure apart: ``basf2 failed (exit status N): ...``
is an application failure; ``basf2 finished; output upload failed: ...`` (minor
status ``Uploading Job Outputs``) is a grid failure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LOG_NAME = "Script1_basf2helper.py.log"
JOB_INFORMATION = "job_info.json"
RESULT_FILE = ".gb2_wrapper_result.json"
#: What every job reports about its payload (and what a scout report is).
USAGE_FILE = "gb2_usage.json"
#: The plan figures a scout's input sandbox carries into its report.
PLAN_FILE = "gb2_plan.json"
_EVENT_OPTIONS = ("-n", "--events")


def basf2_command(configured: str | None) -> list[str]:
    """The basf2 to run: configured, else ``basf2`` on PATH, else gb2's stand-in."""
    if configured:
        return shlex.split(configured)
    found = shutil.which("basf2")
    if found:
        return [found]
    from gb2.standin import command

    return command()


def limit_events(options: list[str], limit: int) -> list[str]:
    """basf2 options with ``-n`` set to ``limit`` (or to the user's own ``-n`` if smaller):
    basf2 refuses ``-n`` twice, so the user's one is replaced."""
    kept: list[str] = []
    wanted = limit
    i = 0
    while i < len(options):
        token = options[i]
        value: str | None = None
        if token in _EVENT_OPTIONS and i + 1 < len(options):
            value, i = options[i + 1], i + 2
        elif token.startswith("--events="):
            value, i = token.split("=", 1)[1], i + 1
        elif token.startswith("-n") and token[2:].isdigit():
            value, i = token[2:], i + 1
        else:
            kept.append(token)
            i += 1
            continue
        if value.isdigit() and 0 < int(value) < wanted:
            wanted = int(value)
    return [*kept, "-n", str(wanted)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="basf2helper.py")
    p.add_argument("--steering", required=True)
    p.add_argument("--output-lpn", required=True)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("--basf2opt", default="")
    p.add_argument("--random-seed", default=None)
    p.add_argument("--release", default="")
    p.add_argument("--scout-events", type=int, default=None, help="a scout: stop after N events, upload nothing")
    p.add_argument("--local", action="store_true", help="no server: report nothing, upload nothing")
    p.add_argument("--generation", type=int, default=0)
    return p.parse_args(argv)


class Helper:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.info: dict[str, Any] = json.loads(Path(os.environ["GB2_JOB_INFO"]).read_text())
        self.job_id = int(self.info["JobID"])
        self.basf2 = json.loads(os.environ.get("GB2_BASF2_COMMAND", '["basf2"]'))
        self.scout = args.scout_events is not None
        self.dx: Any = None
        self.rucio: Any = None
        if not args.local:
            from gb2.client.diracx import DiracX
            from gb2.client.rucio import RucioClient

            self.token = Path(os.environ["GB2_JOB_TOKEN_FILE"]).read_text().strip()
            self.dx = DiracX(os.environ["GB2_DIRACX_URL"], access_token=self.token)
            self.rucio = RucioClient(os.environ["GB2_RUCIO_URL"], token=lambda: self.token)

    def status(self, *, minor: str | None = None, application: str | None = None) -> None:
        if self.dx is None:
            return
        from gb2.errors import Gb2Error

        try:
            self.dx.set_job_status([self.job_id], minor=minor, application=application[:250] if application else None,
                                   source="JobWrapper")  # fmt: skip
        except Gb2Error as exc:
            print(f"basf2helper: could not report status: {exc}", flush=True)

    def fail(self, minor: str, application: str, code: int) -> int:
        self.status(application=application)
        Path(RESULT_FILE).write_text(json.dumps({"MinorStatus": minor, "ApplicationStatusSet": True}))
        print(f"basf2helper: {application}", flush=True)
        return code

    def run(self) -> int:
        inputs = [item["file"] for item in self.info.get("InputData", [])]
        options = shlex.split(self.args.basf2opt)
        if self.scout:
            options = limit_events(options, self.args.scout_events)
        command = [*self.basf2, self.args.steering]
        for name in inputs:
            command += ["-i", name]
        command += ["--job-information", JOB_INFORMATION]
        if self.args.random_seed:
            command += ["--random-seed", self.args.random_seed]
        command += options
        kind = "scout job" if self.scout else "job"
        print(f"basf2helper: {kind} {self.job_id} at {self.info.get('Site')}: {shlex.join(command)}", flush=True)
        self.status(application="Running basf2")
        before = {p.name for p in Path(".").iterdir()}
        rc, usage = run_measured(command, Path(LOG_NAME))
        outputs = output_files(Path("."), before, set(inputs)) if rc == 0 else []
        write_usage(self, rc, usage, inputs, outputs)
        if rc != 0:
            reason = last_error(Path(LOG_NAME))
            return self.fail("Application Finished With Errors",
                             f"basf2 failed (exit status {rc}): {reason}" if reason else f"basf2 failed (exit status {rc})",
                             1)  # fmt: skip
        if self.scout or self.rucio is None:
            print(f"basf2helper: {len(outputs)} output file(s) measured and not uploaded ({kind} of "
                  f"{self.args.output_lpn})", flush=True)  # fmt: skip
            self.status(application="Done")
            return 0
        try:
            registered = self.upload(outputs)
        except Exception as exc:  # any failure here is a grid failure, not basf2's
            return self.fail("Uploading Job Outputs", f"basf2 finished; output upload failed: {exc}", 3)
        print(f"basf2helper: {len(registered)} output file(s) registered", flush=True)
        for lfn in registered:
            print(f"  {lfn}", flush=True)
        self.status(application="Done")
        return 0

    def upload(self, outputs: list[tuple[str, int | None]]) -> list[str]:
        from gb2.data.register import register_outputs
        from gb2.jobs import naming

        se = self.info["OutputSE"]
        planned = []
        for filename, events in outputs:
            generation = self.args.generation + int(self.info.get("RescheduleCounter", 0))
            lfn = naming.output_lfn(self.args.output_lpn, filename, self.args.index, self.job_id, generation)
            planned.append((Path(filename), lfn, events))
        if planned:
            self.status(minor="Uploading Output Data")
            register_outputs(self.rucio, se, planned, job_id=self.job_id, token=self.token)
            self.status(minor="Output Data Uploaded")
        return [lfn for _, lfn, _ in planned]


def run_measured(command: list[str], log_path: Path) -> tuple[int, dict[str, float]]:
    """Run basf2 with its output in the log; (exit status, CPU seconds, wall seconds, peak memory).

    The figures come from the kernel's accounting of the children this process waited
    for (basf2 and whatever it started): the same on a laptop and on a grid worker."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with open(log_path, "ab") as log:
        rc = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rc, {"cpu_seconds": round(cpu, 3), "wall_seconds": round(wall, 3),
                "peak_rss_mb": round(after.ru_maxrss / 1024, 1)}  # fmt: skip


def basf2_status(workdir: Path) -> dict[str, Any]:
    """``basf2_status`` of basf2's job information (events processed, total events)."""
    try:
        doc = json.loads((workdir / JOB_INFORMATION).read_text())
    except (OSError, ValueError):
        return {}
    status = doc.get("basf2_status") if isinstance(doc, dict) else None
    return status if isinstance(status, dict) else {}


def write_usage(helper: Helper, rc: int, usage: dict[str, float], inputs: list[str],
                outputs: list[tuple[str, int | None]]) -> None:  # fmt: skip
    """``gb2_usage.json``: what this job's payload cost and produced (a scout's report)."""
    status = basf2_status(Path("."))
    processed = status.get("events_processed")
    sizes = [{"name": name, "bytes": Path(name).stat().st_size, "events": events} for name, events in outputs]
    doc: dict[str, Any] = {
        "version": 1,
        "job_id": helper.job_id,
        "site": helper.info.get("Site"),
        "output_se": helper.info.get("OutputSE"),
        "output_lpn": helper.args.output_lpn,
        "index": helper.args.index,
        "scout": helper.scout,
        "events_limit": helper.args.scout_events,
        "exit_status": rc,
        "success": rc == 0,
        **usage,
        "events_processed": int(processed) if isinstance(processed, (int, float)) else None,
        "input_files": inputs,
        "outputs": sizes,
        "output_bytes": sum(o["bytes"] for o in sizes),
    }
    try:
        plan = json.loads(Path(PLAN_FILE).read_text())
        if isinstance(plan, dict):
            doc["plan"] = plan
    except (OSError, ValueError):
        pass
    Path(USAGE_FILE).write_text(json.dumps(doc, indent=1))


def output_files(workdir: Path, before: set[str], inputs: set[str]) -> list[tuple[str, int | None]]:
    """Outputs named by basf2's job information, else ROOT files the job created (with the
    event count each file records, see :mod:`gb2.data.events`)."""
    try:
        doc = json.loads((workdir / JOB_INFORMATION).read_text())
    except (OSError, ValueError):
        doc = {}
    found: list[tuple[str, int | None]] = []
    for entry in doc.get("output_files", []):
        name = entry.get("filename")
        if not name or not (workdir / name).is_file():
            continue
        events = (entry.get("stats") or {}).get("events")
        if events is None:
            events = (entry.get("metadata") or {}).get("nEvents")
        found.append((name, int(events) if events is not None else None))
    if found:
        return found
    from gb2.data.events import events_in

    return [
        (p.name, events_in(p))
        for p in sorted(workdir.glob("*.root"))
        if p.name not in before and p.name not in inputs and not p.is_symlink()
    ]


def last_error(log: Path, limit: int = 200) -> str:
    """The most telling line of a failed basf2 log (an error, a fatal, or the exception)."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    for marker in ("[FATAL]", "[ERROR]", "Error", "Exception"):
        for line in reversed(lines):
            if marker in line:
                return line[:limit]
    return lines[-1][:limit] if lines else ""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return Helper(args).run()


if __name__ == "__main__":
    sys.exit(main())
