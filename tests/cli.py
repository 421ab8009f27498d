"""Running gb2 commands in tests exactly as the console scripts do, against a real server."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from commands._entry import run
from gb2.client.diracx import DiracX
from gb2.client.tokens import TokenStore
from gb2.config import Config, Profile
from gb2.server.runner import EmbeddedServer
from tests.helpers import browser_approval

FAST = {"heartbeat_seconds": 0.5, "engine_poll_seconds": 0.2, "min_cpu_time": 1}
UUBAR = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025676/s00/e1003/4S/r00000/uubar/mdst"
CHARGED = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025678/s00/e1003/4S/r00000/charged/mdst"
SIGNAL = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025690/s00/e1003/4S/r00000/1111540100/mdst"
COLLECTION = "/belle/collection/MC/MC15ri_generic_4S_v1"
EXAMPLES = Path(__file__).resolve().parent.parent / "steering_examples"
RELEASE = "light-2511-gacrux"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.out)


@dataclass
class Grid:
    server: EmbeddedServer
    profile: str
    capsys: pytest.CaptureFixture[str]

    def run(self, tool: str, *args: str) -> Result:
        """``<tool> args`` through the console-script entry point; output captured."""
        self.capsys.readouterr()
        code = run(tool, [str(a) for a in args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def login(self, username: str = "alice") -> DiracX:
        store = TokenStore.for_profile(self.profile)
        dx = DiracX(self.server.url, store)
        dx.login("vo:belle group:belle", browser_approval(self.server, username), interval=0.05)
        return dx

    @property
    def dx(self) -> DiracX:
        return DiracX(self.server.url, TokenStore.for_profile(self.profile))

    def wait_project(self, project: str, timeout: float = 90.0) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            counts: dict[str, int] = {}
            for row in self.dx.summary(["Status"], [{"parameter": "JobGroup", "operator": "eq", "value": project}]):
                counts[row["Status"]] = row["count"]
            if counts and all(s in ("Done", "Failed", "Killed", "Deleted", "Completed") for s in counts):
                return counts
            if time.monotonic() > deadline:
                raise AssertionError(f"project {project} did not finish: {counts}")
            time.sleep(0.2)


def add_remote_profile(name: str, server: EmbeddedServer) -> None:
    config = Config.load()
    config.profiles[name] = Profile(name, "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio")
    config.active_profile = name
    config.save()


def submit(grid: Grid, project: str, steering: str | Path, *extra: str) -> list[int]:
    """``gbasf2 <steering> -p <project> -s <release> <extra> --force --json``; the job ids."""
    r = grid.run("gbasf2", str(steering), "-p", project, "-s", RELEASE, *extra, "--force", "--json")
    assert r.code == 0, r.err
    return r.json()["job_ids"]


def failing_steering(tmp_path: Path, message: str = "broken analysis") -> str:
    """A steering file that raises, as a broken analysis does."""
    path = tmp_path / "fails.py"
    path.write_text(f"import basf2\nraise RuntimeError({message!r})\n")
    return str(path)


def finished_good_and_bad(grid: Grid, tmp_path: Path, good: str, bad: str, *bad_extra: str,
                          message: str = "broken analysis") -> tuple[list[int], list[int]]:  # fmt: skip
    """Two finished projects: the ntuple example over uubar (3 jobs Done) and a failing one."""
    ok = submit(grid, good, EXAMPLES / "ntuple_analysis.py", "-i", UUBAR)
    failed = submit(grid, bad, failing_steering(tmp_path, message), *bad_extra)
    grid.wait_project(good)
    grid.wait_project(bad)
    return ok, failed
