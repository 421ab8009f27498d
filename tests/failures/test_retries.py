"""Retries with overrides on the mixed project: the clusters' suggested commands run as printed;
replacements with their overrides, one generation per index in gb2_ds_get, every attempt's logs."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from gb2.jobs import jdl
from tests.failures.conftest import AT_KEK, CPU_OVERRUN, INPUT_FAILS, LOST, STEERING_ERRORS, SUCCEED
from tests.webview import logged_in, web_view


def clusters(grid, project: str) -> dict[str, dict]:
    r = grid.run("gb2_project_analysis", "-p", project, "--failures", "--json")
    assert r.code == 0, r.err
    return {c["cause"]: c for c in r.json()["clusters"]}


def run_suggested(grid, cluster: dict, *extra: str):
    argv = shlex.split(cluster["command"])
    r = grid.run(argv[0], *argv[1:], *extra)
    assert r.code == 0, r.out + r.err
    return r


def rows(grid, project: str) -> dict[int, dict]:
    return {r["JobID"]: r for r in grid.dx.iter_search(
        ["JobID", "JobName", "Status", "MinorStatus", "Site", "RescheduleCounter"],
        [{"parameter": "JobGroup", "operator": "eq", "value": project}])}  # fmt: skip


def test_suggested_retries_with_overrides(mixed, capsys, tmp_path):
    grid = mixed.grid(capsys)
    jobs = mixed.submit(grid, "retry")
    grid.wait_project("retry", timeout=120)
    found = clusters(grid, "retry")
    with web_view("test") as view, logged_in(view) as client:  # the web view shows the same clusters
        page = client.get("/p/retry").text
        assert all(f'data-cluster="{c["id"]}"' in page and c["command"] in page for c in found.values())
    # The input is at KEK only: give it a replica at DESY first, as the advice says.
    assert "gb2_ds_list -lg" in found["input data"]["advice"]
    assert grid.run("gb2_ds_rep", "-d", "DESY-TMP-SE", AT_KEK, "--force").code == 0

    replaced = run_suggested(grid, found["input data"], "--force", "--json").json()
    assert sorted(map(int, replaced["replaced"])) == sorted(jobs[i] for i in INPUT_FAILS)
    assert replaced["overrides"]["banned_sites"] == ["LCG.KEK.jp"] and replaced["failed"] == {}
    new_ids = {int(old): new for old, new in replaced["replaced"].items()}
    texts = grid.dx.job_jdls(new_ids.values())
    for new in new_ids.values():
        ad = jdl.parse(texts[new])
        assert ad.strings("BannedSites") == ["LCG.KEK.jp"]
        assert "--generation=1" in ad.string("Arguments")
    lost = run_suggested(grid, found["lost worker"], "--force", "--json").json()
    assert lost["job_ids"] == [jobs[i] for i in LOST] and "replaced" not in lost  # a plain reschedule
    cpu = run_suggested(grid, found["CPU time"], "--force", "--json").json()
    [(old_cpu, new_cpu)] = [(int(o), n) for o, n in cpu["replaced"].items()]
    assert old_cpu == jobs[CPU_OVERRUN[0]] and jdl.parse(grid.dx.job_jdls([new_cpu])[new_cpu]).integer("CPUTime") == 120
    assert found["analysis"]["deterministic"] and found["analysis"]["command"].startswith("gb2_diagnostic --failed_job")
    grid.wait_project("retry", timeout=120)

    now = rows(grid, "retry")
    for old, new in new_ids.items():
        assert (now[old]["Status"], now[old]["MinorStatus"]) == ("Deleted", f"Replaced by job {new}")
        assert now[new]["Status"] == "Done" and now[new]["Site"] == "LCG.DESY.de"
        assert now[new]["JobName"] == now[old]["JobName"] + "_r1"
    assert now[jobs[LOST[0]]]["Status"] == "Done" and now[jobs[LOST[0]]]["RescheduleCounter"] == 1
    summary = grid.run("gb2_project_summary", "-p", "retry", "--json").json()["projects"][0]
    assert summary["done"] == len(SUCCEED) + len(INPUT_FAILS) + len(LOST)
    assert summary["failed"] == len(STEERING_ERRORS) + len(CPU_OVERRUN)
    status = grid.run("gb2_job_status", "-p", "retry")
    assert "Deleted:7" in status.out  # the six input failures and the CPU overrun, each replaced

    # gb2_ds_get fetches one generation per index: 2 and 5, the lost worker's rerun, the six replacements.
    got = grid.run("gb2_ds_get", "retry", "--force", "--json")
    assert got.code == 0, got.err
    files = sorted(p.name for p in (Path.cwd() / "retry").rglob("*.root"))
    indices = sorted(int(name.split("_")[1]) for name in files)
    assert indices == sorted([*SUCCEED, *LOST, *INPUT_FAILS]), files
    assert {name for name in files if name.startswith("ntuple_00000_")} == {f"ntuple_00000_job{jobs[0]}_01.root"}
    assert all(name.endswith("_01.root") for name in files if int(name.split("_")[1]) in INPUT_FAILS)

    # Every attempt's logs: the replaced job's (attempt 1) and its replacement's (attempt 2).
    old, new = next(iter(sorted(new_ids.items())))
    first = grid.run("gb2_job_output", "-j", str(new), "--attempt", "1", "--json", "--dir", str(tmp_path))
    assert first.code == 0, first.err
    assert first.json()["ran_as"]["job_id"] == old and first.json()["attempts"] == 2
    log = Path(first.json()["folder"]) / "std.out"
    assert "Input Data Not Available" in log.read_text() and "Input/output error" in log.read_text()
    second = grid.run("gb2_job_output", "-j", str(old), "--attempt", "2", "--json", "--dir", str(tmp_path)).json()
    assert second["ran_as"]["job_id"] == new
    info = json.loads((Path(second["folder"]) / "job.info").read_text())
    assert info["JobID"] == new and info["Site"] == "LCG.DESY.de"
    beyond = grid.run("gb2_job_output", "-j", str(old), "--attempt", "3")
    assert beyond.code == 2 and "has 2 attempt(s)" in beyond.err
    with web_view("test") as view, logged_in(view) as client:
        page = client.get(f"/j/{new}").text
        assert "Earlier attempts" in page and f'<a href="/j/{old}">{old}</a>' in page
        assert f"gb2_job_output -j {new} --attempt N" in page
    rerun = grid.run("gb2_job_output", "-j", str(jobs[LOST[0]]), "--attempt", "1")
    assert rerun.code == 1 and "left no logs" in rerun.err  # the lost worker's first run left none
