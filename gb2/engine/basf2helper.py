"""The basf2 job wrapper: what a gbasf2 job runs on the worker node.

The JDL of a gb2 basf2 job runs ``basf2helper.py`` (from the site's software
area) with these arguments::

    --steering <file.py> --output-lpn <LPN> --index <n> [--basf2opt=<options>] [--random-seed <s>] [--release <r>]
    [--generation <g>]

It runs ``basf2 <file.py> -i <input> ... --job-information job_info.json
[--random-seed <s>] <options>`` with the inputs the job wrapper resolved
(``job.info``; a seed given in ``<options>`` wins, as basf2 takes the last), writes basf2's
output to ``Script1_basf2helper.py.log``, then uploads every output file to the
site's output SE as ``<LPN>/subXX/<stem>_<index>_job<JobID>_<reschedule>.<ext>``,
registers it (size, adler32, events, job id) and attaches it to its datablock.
``<reschedule>`` is the job's reschedule count plus ``--generation`` (given to a job that
replaces another, so that its outputs are the newest generation of their index).

ApplicationStatus tells the failure apart: ``basf2 failed (exit status N): ...``
is an application failure; ``basf2 finished; output upload failed: ...`` (minor
status ``Uploading Job Outputs``) is a grid failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

LOG_NAME = "Script1_basf2helper.py.log"
JOB_INFORMATION = "job_info.json"
RESULT_FILE = ".gb2_wrapper_result.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="basf2helper.py")
    p.add_argument("--steering", required=True)
    p.add_argument("--output-lpn", required=True)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("--basf2opt", default="")
    p.add_argument("--random-seed", default=None)
    p.add_argument("--release", default="")
    p.add_argument("--generation", type=int, default=0)
    return p.parse_args(argv)


class Helper:
    def __init__(self, args: argparse.Namespace) -> None:
        from gb2.client.diracx import DiracX
        from gb2.client.rucio import RucioClient

        self.args = args
        self.info: dict[str, Any] = json.loads(Path(os.environ["GB2_JOB_INFO"]).read_text())
        self.job_id = int(self.info["JobID"])
        self.token = Path(os.environ["GB2_JOB_TOKEN_FILE"]).read_text().strip()
        self.dx = DiracX(os.environ["GB2_DIRACX_URL"], access_token=self.token)
        self.rucio = RucioClient(os.environ["GB2_RUCIO_URL"], token=lambda: self.token)
        self.basf2 = json.loads(os.environ.get("GB2_BASF2_COMMAND", '["basf2"]'))

    def status(self, *, minor: str | None = None, application: str | None = None) -> None:
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
        command = [*self.basf2, self.args.steering]
        for name in inputs:
            command += ["-i", name]
        command += ["--job-information", JOB_INFORMATION]
        if self.args.random_seed:
            command += ["--random-seed", self.args.random_seed]
        command += shlex.split(self.args.basf2opt)
        print(f"basf2helper: job {self.job_id} at {self.info.get('Site')}: {shlex.join(command)}", flush=True)
        self.status(application="Running basf2")
        before = {p.name for p in Path(".").iterdir()}
        with open(LOG_NAME, "ab") as log:
            rc = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
        if rc != 0:
            reason = last_error(Path(LOG_NAME))
            return self.fail("Application Finished With Errors",
                             f"basf2 failed (exit status {rc}): {reason}" if reason else f"basf2 failed (exit status {rc})",
                             1)  # fmt: skip
        outputs = output_files(Path("."), before, set(inputs))
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
