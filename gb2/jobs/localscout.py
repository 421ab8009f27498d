"""``gbasf2 --scout_local``: one scout of the project on this machine, before anything is submitted.

It is the first job of the plan as a grid scout would run it: the steering file and
the ``-f`` files in a temporary folder, the job's first input file (and the
``--input_datafiles``) fetched and checked against the catalogue, and gb2's job
helper (:mod:`gb2.engine.basf2helper`, with basf2 or gb2's stand-in) stopping basf2
after ``--scout_events`` events, uploading nothing. Its ``gb2_usage.json`` is the
report the forecast is made from, as for grid scouts (CRAB's dry-run benchmark, plus
the output-size and quota forecast).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gb2.data.datasets import resolve_files, to_lpn
from gb2.data.download import Downloader, Item
from gb2.engine.basf2helper import (
    JOB_INFORMATION,
    LOG_NAME,
    PLAN_FILE,
    USAGE_FILE,
    basf2_command,
    last_error,
)
from gb2.errors import OperationFailed
from gb2.jobs.forecast import (
    Forecast,
    ScoutMeasurement,
    ScoutReport,
    Sizing,
    make_forecast,
    make_report,
)
from gb2.jobs.scouts import apply_sizing, decide, figures_of, remaining_quota
from gb2.paths import path_inside

if TYPE_CHECKING:
    from gb2.client.rucio import FileReplicas
    from gb2.jobs.project import Plan
    from gb2.session import Session

#: The JobID a local scout reports (no server gave it one).
LOCAL_JOB_ID = 0


def _fetch(session: Session, files: list[FileReplicas], folder: Path) -> list[dict[str, str]]:
    downloader = Downloader(lambda: {"Authorization": f"Bearer {session.diracx.access_token()}"})
    fetched = []
    for f in files:
        target = path_inside(folder, os.path.basename(f.name))
        kind, error, _se = downloader.fetch_one(Item(f.name, target, f.bytes, f.adler32, f.pfns))
        if kind == "failed":
            raise OperationFailed(f"the local scout could not fetch {f.name}: {error}")
        fetched.append({"lfn": f.name, "file": target.name})
    return fetched


def run_local_scout(session: Session, plan: Plan, events: int) -> ScoutMeasurement:
    """Run the scout; its measurement, or OperationFailed with basf2's last error."""
    r = plan.request
    folder = Path(tempfile.mkdtemp(prefix="gb2-scout-local-"))
    try:
        shutil.copy2(r.steering, folder / r.steering.name)
        for path in r.sandbox_files:
            shutil.copy2(path, folder / path.name)
        first = plan.jobs[0].inputs[:1] if plan.jobs else []
        inputs = _fetch(session, first, folder)
        extra = [to_lpn(lfn, plan.owner) for lfn in r.input_datafiles]
        if extra:
            _fetch(session, resolve_files(session.rucio, extra), folder)
        info = {"JobID": LOCAL_JOB_ID, "JobName": f"{r.project}_scout_local", "JobGroup": r.project,
                "Owner": plan.owner, "OwnerGroup": plan.group, "Site": "local", "OutputSE": None,
                "RescheduleCounter": 0, "CPUTime": plan.cpu_minutes * 60, "InputData": inputs}  # fmt: skip
        (folder / "job.info").write_text(json.dumps(info))
        (folder / PLAN_FILE).write_text(json.dumps({"project": r.project, **figures_of(plan).as_json()}))
        argv = [sys.executable, "-m", "gb2.engine.basf2helper", "--steering", r.steering.name, "--output-lpn",
                plan.output_lpn, "--index", "0", "--release", r.release, "--scout-events", str(events), "--local"]
        if r.basf2opt:
            argv += ["--basf2opt", r.basf2opt]
        env = {**os.environ, "GB2_JOB_INFO": str(folder / "job.info"),
               "GB2_BASF2_COMMAND": json.dumps(basf2_command(None)), "PYTHONUNBUFFERED": "1"}  # fmt: skip
        with open(folder / "std.out", "wb") as out:
            subprocess.run(argv, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           check=False)  # fmt: skip
        try:
            usage = json.loads((folder / USAGE_FILE).read_text())
        except (OSError, ValueError):
            usage = {}
        measured = ScoutMeasurement.from_usage(usage) if usage.get("success") else None
        if measured is None:
            reason = last_error(folder / LOG_NAME) or last_error(folder / "std.out") or "no report"
            raise OperationFailed(f"the local scout failed: {reason} (nothing was submitted; run "
                                  f"basf2 {r.steering.name} locally to see the whole log)")  # fmt: skip
        if not (folder / JOB_INFORMATION).is_file():
            raise OperationFailed("the local scout left no basf2 job information: nothing was submitted")
        return measured
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class LocalScout:
    report: ScoutReport
    forecast: Forecast
    sizing: Sizing | None = None

    def as_json(self) -> dict[str, Any]:
        return {"report": self.report.as_json(), "forecast": self.forecast.as_json(),
                "sizing": self.sizing.as_json() if self.sizing else None}  # fmt: skip


def scout_before_submission(session: Session, plan: Plan) -> LocalScout:
    """Run the local scout; with ``-n auto`` size the jobs from it (the plan is re-split and says
    why); return its report and the forecast of the plan as it will be submitted."""
    r = plan.request
    report = make_report([run_local_scout(session, plan, r.scout_events)])
    if report is None:
        raise OperationFailed("the local scout processed no event: nothing was submitted")
    sizing = None
    if r.auto_files:
        sizing = apply_sizing(plan, report)
        plan.notes.append(f"-n auto chose {sizing.files_per_job} file(s) per job ({len(plan.jobs)} jobs): "
                          f"{sizing.reason}")  # fmt: skip
        plan.scouting = decide(session, plan)
    forecast = make_forecast(report, figures_of(plan), remaining_quota(session, report))
    return LocalScout(report, forecast, sizing)
