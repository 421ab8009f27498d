"""Failure clusters on a project that fails in four ways at once (conftest.py):
gb2_project_analysis --failures and gb2_diagnostic -p, in text and JSON."""

from __future__ import annotations

from tests.failures.conftest import CPU_OVERRUN, INPUT_FAILS, LOST, STEERING_ERRORS, forget_logs


def test_clusters_of_a_mixed_project(mixed, capsys):
    grid = mixed.grid(capsys)
    mixed.submit(grid, "mixed")
    grid.wait_project("mixed", timeout=120)
    forget_logs(mixed.home)
    r = grid.run("gb2_project_analysis", "-p", "mixed", "--failures", "--json")
    assert r.code == 0, r.err
    report = r.json()
    print(grid.run("gb2_project_analysis", "-p", "mixed", "--failures").out)
    by_cause = {c["cause"]: c for c in report["clusters"]}
    assert report["failed"] == 10 and report["jobs"] == 12, report
    assert set(by_cause) == {"input data", "analysis", "CPU time", "lost worker"}, report
    assert by_cause["input data"]["count"] == len(INPUT_FAILS)
    assert by_cause["analysis"]["count"] == len(STEERING_ERRORS)
    assert by_cause["CPU time"]["count"] == len(CPU_OVERRUN)
    assert by_cause["lost worker"]["count"] == len(LOST)
