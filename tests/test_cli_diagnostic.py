"""gb2_diagnostic: the set-up check and the explanation of a failed job."""

from __future__ import annotations

from tests.cli import failing_steering, submit


def test_setup_check(grid):
    r = grid.run("gb2_diagnostic")
    assert r.code == 0, r.out + r.err
    names = [line[7:].split()[0] for line in r.out.splitlines()]
    assert names == ["profile", "DiracX", "clock", "login", "DiracX", "Rucio", "basf2"]
    assert all(line.startswith("[ OK ]") for line in r.out.splitlines()[:6])
    report = grid.run("gb2_diagnostic", "--json").json()
    assert report["ok"] is True and {c["name"] for c in report["checks"]} >= {"login", "Rucio", "DiracX access"}
    assert "alice" in next(c["detail"] for c in report["checks"] if c["name"] == "login")

    grid.run("gb2_proxy_destroy")
    r = grid.run("gb2_diagnostic")
    assert r.code == 1 and "[FAIL] login" in r.out and "gb2_proxy_init" in r.out


def test_unreachable_server(grid):
    assert grid.run("gb2_config", "add", "down", "--diracx", "http://127.0.0.1:9", "--rucio", "http://127.0.0.1:9").code == 0
    r = grid.run("gb2_diagnostic", "--profile", "down", "--json")
    assert r.code == 1
    checks = r.json()["checks"]
    assert [c["status"] for c in checks] == ["OK", "FAIL"] and "cannot be reached" in checks[1]["detail"]


def test_failed_job_is_explained(grid, tmp_path):
    [job] = submit(grid, "diag", failing_steering(tmp_path, "cut string is wrong"))
    grid.wait_project("diag")
    r = grid.run("gb2_diagnostic", "--failed_job", str(job))
    assert r.code == 0, r.err
    assert "Cause: analysis" in r.out and "fix the steering file" in r.out
    assert "Last lines of Script1_basf2helper.py.log:" in r.out and "cut string is wrong" in r.out
    report = grid.run("gb2_diagnostic", "--failed_job", str(job), "--json").json()
    assert report["cause"] == "analysis" and report["job"]["Status"] == "Failed"
    assert any("cut string is wrong" in line for line in report["log_tail"])

    missing = grid.run("gb2_diagnostic", "--failed_job", "987654")
    assert missing.code == 5 and "not found" in missing.err and missing.err.count("\n") == 1
    bad = grid.run("gb2_diagnostic", "--failed_job", "abc")
    assert bad.code == 2 and bad.err.count("\n") == 1
