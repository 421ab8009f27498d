"""The failure tools' tests: a grid whose projects fail in several distinct ways at once.

The embedded server runs with injected faults: the workers of ``LCG.KEK.jp`` cannot read
input files, the first job started at ``LCG.DESY.de`` loses its worker, and a CPU
normalisation factor turns ``--cputime 1`` (60 normalised seconds) into 3 s of real CPU.
Two copies of sample datasets, one on each site's TMP storage, place the jobs: a project
over both runs indices 0-5 at DESY and 6-11 at KEK (``--repetition 2``). Its steering file
fails on purpose by index: a deterministic analysis error for 1 and 3, a CPU-time overrun
for 4; 2 and 5 succeed, 0 is the lost worker, 6-11 cannot read their input.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gb2.config import Config, Profile
from gb2.server.runner import EmbeddedServer
from gb2.server.settings import ServerSettings, User
from tests.cli import CHARGED, EXAMPLES, FAST, RELEASE, UUBAR, Grid
from tests.helpers import browser_approval

AT_DESY = "/belle/user/alice/in_desy"
AT_KEK = "/belle/user/alice/in_kek"
STEERING_ERRORS = (1, 3)
CPU_OVERRUN = (4,)
SUCCEED = (2, 5)
LOST = (0,)
INPUT_FAILS = tuple(range(6, 12))

STEERING = '''"""Fails on purpose, by job index (see tests/failures/conftest.py)."""
import json, os, re, runpy
import basf2

name = json.load(open(os.environ["GB2_JOB_INFO"]))["JobName"]
index = int(re.search(r"_(\\d{5})(?:_r\\d+)?$", name).group(1))
if index in STEERING_ERRORS:
    raise RuntimeError(f"no variable named 'mbc_{index}' in /belle/analysis/cuts_{index}.py")
if index in CPU_OVERRUN:
    total = 0
    while total >= 0:
        total += 1
runpy.run_path(NTUPLE)
'''

FAULTS = {"LCG.KEK.jp": "input", "LCG.DESY.de": "lost:1"}


def steering_file(folder: Path) -> Path:
    path = folder / "mixed.py"
    text = STEERING.replace("STEERING_ERRORS", repr(STEERING_ERRORS)).replace("CPU_OVERRUN", repr(CPU_OVERRUN))
    path.write_text(text.replace("NTUPLE", repr(str(EXAMPLES / "ntuple_analysis.py"))))
    return path


@dataclass
class MixedGrid:
    """One server for the package, alice logged in, the two placed datasets copied."""

    home: Path
    server: EmbeddedServer
    steering: Path

    def env(self) -> dict[str, str]:
        return {"GB2_CONFIG_DIR": str(self.home / "config"), "GB2_CACHE_DIR": str(self.home / "cache"),
                "GB2_DATA_DIR": str(self.home / "data")}  # fmt: skip

    def grid(self, capsys: pytest.CaptureFixture[str]) -> Grid:
        return Grid(self.server, "test", capsys)

    def submit(self, grid: Grid, project: str, *extra: str) -> dict[int, int]:
        """The mixed project: job index -> job id."""
        r = grid.run("gbasf2", str(self.steering), "-p", project, "-s", RELEASE, "-i", f"{AT_DESY},{AT_KEK}",
                     "--repetition", "2", "--cputime", "1", *extra, "--noscout", "--force", "--json")  # fmt: skip
        assert r.code == 0, r.err
        ids = r.json()["job_ids"]
        assert len(ids) == 12
        names = {row["JobID"]: row["JobName"] for row in grid.dx.iter_search(
            ["JobID", "JobName"], [{"parameter": "JobGroup", "operator": "eq", "value": project}])}  # fmt: skip
        return {int(re.search(r"_(\d{5})$", names[j]).group(1)): j for j in ids}


def start_mixed_grid(home: Path, **settings) -> EmbeddedServer:  # type: ignore[no-untyped-def]
    options = {**FAST, "stall_seconds": 2.0, "stalled_to_failed_seconds": 2.0, "workers": 3,
               "cpu_normalization": 20.0, "worker_faults": dict(FAULTS), **settings}  # fmt: skip
    return EmbeddedServer(ServerSettings(data_dir=home / "server", run_engine=True,
                                         users=[User("alice", ("belle", "belle_jobadmin")), User("bob")],
                                         **options)).start()  # fmt: skip


@pytest.fixture(scope="package")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MixedGrid]:
    from commands._entry import run

    home = tmp_path_factory.mktemp("mixed")
    env = {"GB2_CONFIG_DIR": str(home / "config"), "GB2_CACHE_DIR": str(home / "cache"),
           "GB2_DATA_DIR": str(home / "data"), "GB2_RETRIES": "3", "GB2_RETRY_WAIT": "0.05"}  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        server = start_mixed_grid(home)
        try:
            config = Config.load()
            config.profiles["test"] = Profile("test", "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio")
            config.active_profile = "test"
            config.save()
            from gb2.client.diracx import DiracX
            from gb2.client.tokens import TokenStore

            DiracX(server.url, TokenStore.for_profile("test")).login(
                "vo:belle group:belle", browser_approval(server, "alice"), interval=0.05)
            for source, dest, se in ((UUBAR, AT_DESY, "DESY-TMP-SE"), (CHARGED, AT_KEK, "KEK-TMP-DISK-SE")):
                assert run("gb2_ds_cp", [source, dest, "-d", se, "--force"]) == 0
            steering = steering_file(home)
            yield MixedGrid(home, server, steering)
        finally:
            server.stop()


@pytest.fixture
def isolated_home(mixed: MixedGrid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The module's home (its server and login) for every test, run in a fresh folder."""
    for key, value in mixed.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GB2_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return mixed.home


def forget_logs(home: Path) -> None:
    """Drop the local cache of log digests (to count fresh reads)."""
    shutil.rmtree(home / "cache" / "logs", ignore_errors=True)

