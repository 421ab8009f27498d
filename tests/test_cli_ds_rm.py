"""gb2_ds_rm: removing one's own project, refusing everything else."""

from __future__ import annotations

import time

from tests.cli import EXAMPLES, UUBAR, submit


def test_remove_a_finished_project(grid, tmp_path, monkeypatch):
    submit(grid, "rmme", EXAMPLES / "mc_generation.py", "--repetition", "2")
    grid.wait_project("rmme")
    listed = grid.run("gb2_ds_list", "rmme", "-l", "--json").json()["entries"]
    assert listed and listed[0]["files"] == 2

    asked = grid.run("gb2_ds_rm", "rmme")  # stdin is not a terminal here
    assert asked.code == 2 and "--force" in asked.err
    assert grid.run("gb2_ds_list", "rmme").code == 0  # nothing removed

    r = grid.run("gb2_ds_rm", "rmme", "--force", "--json")
    assert r.code == 0, r.err
    assert r.json() == {"lpn": "/belle/user/alice/rmme", "type": "container", "files": 2,
                        "bytes": listed[0]["bytes"], "removed": True}  # fmt: skip
    gone = grid.run("gb2_ds_list", "rmme")
    assert gone.code == 5 and "no such dataset" in gone.err
    monkeypatch.chdir(tmp_path)
    assert grid.run("gb2_ds_get", "rmme", "--force").code == 5
    # the name stays used: gbasf2 never reuses a project name
    again = grid.run("gbasf2", str(EXAMPLES / "mc_generation.py"), "-p", "rmme", "-s", "light-2511-gacrux", "--force")
    assert again.code == 2 and "rmme" in again.err


def test_refusals(grid, tmp_path):
    slow = tmp_path / "slow.py"
    slow.write_text("import time, basf2\ntime.sleep(120)\n")
    submit(grid, "busy", slow)
    deadline = time.monotonic() + 30
    while grid.run("gb2_ds_list", "busy").code != 0:  # the output container exists once submitted
        assert time.monotonic() < deadline
        time.sleep(0.2)
    for args, code, message in (
        (["busy", "-f"], 2, "still has 1 jobs that have not ended"),
        ([UUBAR, "-f"], 4, "only your own projects"),  # official data: permission denied
        (["/belle/user/bob/theirs", "-f"], 4, "only your own projects"),
        (["/belle/user/alice/*", "-f"], 2, "not a wildcard"),
        (["never_made", "-f"], 5, "does not exist"),
        ([], 2, "Missing argument"),
    ):
        r = grid.run("gb2_ds_rm", *args)
        assert r.code == code and message in r.err, (args, r.code, r.err)
        assert r.err.count("\n") == 1
    assert grid.run("gb2_ds_list", "busy").code == 0
    grid.run("gb2_job_kill", "-p", "busy", "--force")
