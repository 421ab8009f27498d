"""b2luigi 1.3.0 drives gb2 unmodified, from submission to downloaded outputs.

A virtual environment gets gb2 (this checkout), b2luigi 1.3.0 with its gbasf2 extra, and
tenacity at the lowest version gb2 declares (b2luigi pins tenacity < 9). Pipelines run as
an analyst runs them where basf2 is absent, ``python -m gb2.standin pipeline.py`` (with
basf2: ``python3 pipeline.py``), in a fresh HOME with nothing set up: the one setting is
``gbasf2_setup_path`` (from ``gb2_config gbasf2-setup``), the embedded grid starts on
demand, and b2luigi logs in through gb2_proxy_init itself (its password prompt gets an
empty line).

b2luigi looks at a project's job statuses again only after five minutes
(``Gbasf2Process._job_status_max_age``, which no setting changes): a look that finds jobs
still running costs five minutes, even on this grid where jobs take seconds. So the three
pipelines run at the same time, and the slow suite takes about as long as the longest
(5 to 11 minutes). The wall time of each is printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gb2.standin.eventfile import read_ntuple
from tests.cli import CHARGED, RELEASE, UUBAR

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
B2LUIGI = "b2luigi[gbasf2]==1.3.0"
PIPELINE_TIMEOUT = 1500  # seconds; the worst case is about two five-minute status looks, plus the work

TASKS = f'''
import os

import b2luigi
import basf2
import modularAnalysis as ma
from b2luigi.contrib.basf2.tasks import Basf2PathTask
from variables import variables as vm

HERE = os.path.dirname(os.path.abspath(__file__))


class PionNtuple(Basf2PathTask):
    """The default route: b2luigi pickles this path and runs it in the jobs."""

    batch_system = "gbasf2"
    gbasf2_project_name_prefix = b2luigi.Parameter(significant=False)
    gbasf2_input_dataset = b2luigi.Parameter(hashed=True)
    gbasf2_release = "{RELEASE}"

    def output(self):
        yield self.add_to_output("pions.root")

    def create_path(self):
        path = basf2.create_path()
        ma.inputMdstList([], path=path)
        vm.addAlias("mom", "p")
        ma.fillParticleList("pi+:good", "mom > 0.2", path=path)
        ma.variablesToNtuple("pi+:good", ["mom", "M"], filename="pions.root", path=path)
        return path


class CustomSteering(PionNtuple):
    """The gbasf2_custom_steering_file route: the steering file is submitted as it is."""

    gbasf2_custom_steering_file = os.path.join(HERE, "steering.py")


class Broken(PionNtuple):
    """Every job fails; b2luigi may reschedule each once."""

    gbasf2_custom_steering_file = os.path.join(HERE, "broken.py")
    gbasf2_max_retries = 1
'''

STEERING = """
import basf2
import modularAnalysis as ma

path = basf2.create_path()
ma.inputMdstList([], path=path)
ma.fillParticleList("pi+:good", "p > 0.2", path=path)
ma.variablesToNtuple("pi+:good", ["p", "M"], filename="pions.root", path=path)
basf2.process(path)
"""

BROKEN = 'import basf2\n\nraise RuntimeError("this analysis is broken")\n'

PICKLED = f"""
import b2luigi
from tasks import PionNtuple

b2luigi.process(PionNtuple(gbasf2_project_name_prefix="pickled", gbasf2_input_dataset="{UUBAR}"), batch=True)
"""

CUSTOM = f"""
import b2luigi
from tasks import CustomSteering

b2luigi.process(CustomSteering(gbasf2_project_name_prefix="custom", gbasf2_input_dataset="{CHARGED}"), batch=True)
"""

FAILING = f"""
import b2luigi
from tasks import Broken

b2luigi.process(Broken(gbasf2_project_name_prefix="broken", gbasf2_input_dataset="{UUBAR}"), batch=True)
"""


def lowest_tenacity() -> str:
    declared = re.search(r'"tenacity>=([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert declared, "pyproject.toml declares no lower bound for tenacity"
    return declared.group(1)


def release(version: str) -> tuple[int, ...]:
    """``8.2`` and ``8.2.0`` alike."""
    numbers = [int(part) for part in version.split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gb2, b2luigi 1.3.0 and the lowest tenacity gb2 declares, in one environment."""
    path = tmp_path_factory.mktemp("b2luigi") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    r = subprocess.run([path / "bin" / "pip", "install", "-q", str(ROOT), B2LUIGI, f"tenacity=={lowest_tenacity()}"],
                       capture_output=True, text=True, timeout=900)  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return path


def fresh_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def gb2(venv: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A gb2 command of the environment, for the user whose HOME is ``home``."""
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@dataclass
class Pipeline:
    """One b2luigi run: its analysis folder, the analyst's HOME, its output and wall time."""

    script: str
    work: Path
    home: Path
    out: str = ""
    seconds: float = 0.0


def analysis_folder(venv: Path, root: Path, script: str) -> Pipeline:
    """The tasks and the one setting (gbasf2_setup_path) in a folder, and a fresh HOME."""
    home = fresh_home(root)
    work = root / "analysis"
    work.mkdir()
    for name, text in (("tasks.py", TASKS), ("steering.py", STEERING), ("broken.py", BROKEN),
                       ("pickled.py", PICKLED), ("custom.py", CUSTOM), ("failing.py", FAILING)):  # fmt: skip
        (work / name).write_text(text)
    setup = gb2(venv, home, "gb2_config", "gbasf2-setup").stdout.strip()
    (work / "settings.json").write_text(json.dumps({"gbasf2_setup_path": setup, "result_dir": "results"}))
    return Pipeline(script, work, home)


@pytest.fixture(scope="module")
def pipelines(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Pipeline]]:
    """The three pipelines, started together so that b2luigi's five-minute looks overlap.

    Each runs as ``python -m gb2.standin <script>`` in its own folder with its own HOME and
    a basic PATH, in a new session (no terminal: b2luigi's password prompt reads the empty
    line on stdin). The embedded servers they start are stopped at the end.
    """
    runs = {s: analysis_folder(venv, tmp_path_factory.mktemp(s.split(".")[0]), s)
            for s in ("pickled.py", "custom.py", "failing.py")}  # fmt: skip
    procs = {}
    start = time.monotonic()
    for script, run in runs.items():
        log = open(run.work / "pipeline.log", "w")  # noqa: SIM115 - closed when the process ends
        proc = subprocess.Popen([str(venv / "bin" / "python"), "-m", "gb2.standin", script], cwd=run.work,
                                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, text=True,
                                env={"HOME": str(run.home), "PATH": "/usr/bin:/bin"}, start_new_session=True)  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
        procs[script] = (proc, log, time.monotonic())
    try:
        while procs:
            assert time.monotonic() - start < PIPELINE_TIMEOUT, f"still running: {sorted(procs)}"
            for script, (proc, log, began) in list(procs.items()):
                if proc.poll() is not None:
                    log.close()
                    runs[script].seconds = time.monotonic() - began
                    runs[script].out = (runs[script].work / "pipeline.log").read_text()
                    print(f"\nb2luigi pipeline {script}: {runs[script].seconds:.1f} s wall time")
                    del procs[script]
            time.sleep(1)
        yield runs
    finally:
        for proc, log, _ in procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            log.close()
        for run in runs.values():
            gb2(venv, run.home, "gb2_config", "server", "stop")


def project_jobs(venv: Path, home: Path, project: str) -> list[dict]:
    r = gb2(venv, home, "gb2_job_status", "-p", project, "--json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["jobs"]


def test_gb2_works_with_the_lowest_tenacity_it_declares(venv: Path, tmp_path: Path) -> None:
    """Installing b2luigi downgrades tenacity; gb2's retries must still work (no TypeError)."""
    version = subprocess.run([venv / "bin" / "python", "-c", "import importlib.metadata as m; print(m.version('tenacity'))"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert release(version) == release(lowest_tenacity())
    home = fresh_home(tmp_path)
    added = gb2(venv, home, "gb2_config", "add", "dead", "--diracx", "http://127.0.0.1:9", "--rucio",
                "http://127.0.0.1:9/rucio", "--use")  # fmt: skip
    assert added.returncode == 0, added.stderr
    start = time.monotonic()
    r = subprocess.run([venv / "bin" / "gb2_proxy_init"], capture_output=True, text=True, timeout=120,
                       env={"HOME": str(home), "PATH": "/usr/bin:/bin", "GB2_RETRIES": "3", "GB2_RETRY_WAIT": "0.2"})  # fmt: skip
    assert r.returncode == 6, r.stderr
    assert r.stderr.startswith("gb2_proxy_init: error: cannot reach") and r.stderr.count("\n") == 1
    assert time.monotonic() - start > 0.4  # two waits between three attempts


@pytest.mark.parametrize(("script", "task", "columns"), [
    ("pickled.py", "PionNtuple", {"mom", "M"}),  # the default route; "mom" is an alias in the pickle
    ("custom.py", "CustomSteering", {"p", "M"}),
])  # fmt: skip
def test_a_pipeline_runs_to_success_with_its_outputs_in_the_result_folder(
    venv: Path, pipelines: dict[str, Pipeline], script: str, task: str, columns: set[str]
) -> None:
    run = pipelines[script]
    work, home, out = run.work, run.home, run.out
    assert "This progress looks :) because there were no failed tasks" in out, out[-5000:]
    assert "* 1 ran successfully:" in out

    [logs] = (work / "logs").glob(f"*/{task}/gbasf2_logs/*")
    jobs = project_jobs(venv, home, logs.name)
    assert len(jobs) == 3 and all(j["status"] == "Done" for j in jobs)
    for job in jobs:
        assert (logs / str(job["job_id"]) / "Script1_basf2helper.py.log").is_file()
    outputs = sorted(f.name for f in (work / "results").glob("*/pions.root/*"))
    assert outputs == sorted(f"pions_{i:05d}_job{j['job_id']}_00.root" for i, j in enumerate(jobs)), outputs
    for f in (work / "results").glob("*/pions.root/*"):
        rows = read_ntuple(f)["variables"]
        assert rows and columns <= set(rows[0]) and ("p" in columns or "p" not in rows[0])


def test_failing_jobs_are_logged_rescheduled_then_given_up(venv: Path, pipelines: dict[str, Pipeline]) -> None:
    run = pipelines["failing.py"]
    work, home, out = run.work, run.home, run.out
    assert "This progress looks :( because there were failed tasks" in out, out[-5000:]
    assert "* 1 failed:" in out
    assert "Rescheduling jobs:" in out and "Reached maximum number of rescheduling tries (1)" in out

    [logs] = (work / "logs").glob("*/Broken/gbasf2_logs/*")
    jobs = project_jobs(venv, home, logs.name)
    assert len(jobs) == 3
    assert all(j["status"] == "Failed" and j["reschedule_count"] == 1 for j in jobs), jobs
    for job in jobs:
        log = logs / str(job["job_id"]) / "Script1_basf2helper.py.log"
        assert "this analysis is broken" in log.read_text()
    retries = json.loads((logs.parent.parent / "n_retries_by_grid_job.json").read_text())
    assert retries == {str(j["job_id"]): 1 for j in jobs}
    assert not list((work / "results").glob("*/pions.root/*"))
