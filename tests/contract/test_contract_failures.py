"""The failure tools against real DiracX 0.7 and Rucio 41: reschedule with overrides (a replacement
job, the old one deleted), every attempt's logs, failure clusters, peek, job info with the status
history, why a job waits, and site health.

Real DiracX runs no jobs: the test plays the job wrapper (statuses, a log in an output sandbox,
a heartbeat with the output's tail). DiracX 0.7 cannot give a job's JDL or parameters back: gb2
reads the JDL from the answer of its reschedule (which leaves an ended job ended), and says that
peeking is not offered (exit 7).
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from gb2.jobs import jdl
from tests.contract.targets import run_id
from tests.contract.test_contract_commands import gb2, logged_in, one_failed_one_running, user  # noqa: F401


def row(alice, job: int, *fields: str) -> dict:
    return next(alice.iter_search(["JobID", *fields], [{"parameter": "JobID", "operator": "eq", "value": job}]))


def test_reschedule_with_overrides_attempts_and_clusters(user, logged_in, tmp_path):  # noqa: F811
    alice = logged_in
    project = f"ovr{run_id()}"
    failed, running, waiting = one_failed_one_running(user, alice, project, tmp_path, "no variable named mbc_17")
    alice.set_metadata({failed: {"Site": "LCG.KEK.jp"}})

    clusters = json.loads(gb2(user, "gb2_project_analysis", "-p", project, "--failures", "--json").stdout)
    [cluster] = clusters["clusters"]
    assert (cluster["cause"], cluster["count"], cluster["sites"]) == ("analysis", 1, {"LCG.KEK.jp": 1})
    assert cluster["lines"] == ["[FATAL] RuntimeError: no variable named mbc_<N>"] and cluster["deterministic"]
    assert cluster["command"] == f"gb2_diagnostic --failed_job {failed}"
    again = json.loads(gb2(user, "gb2_diagnostic", "-p", project, "--json").stdout)
    assert again["logs"]["cached"] == 1 and again["logs"]["read"] == 0  # the log is read once

    before = row(alice, failed, "JobName", "RescheduleCounter")
    r = gb2(user, "gb2_job_reschedule", "-p", project, "--cputime", "30", "--banned_site", "LCG.KEK.jp", "--basf2opt",
            "-n 5", "--force", "--json")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    [(old, new)] = [(int(o), n) for o, n in result["replaced"].items()]
    assert old == failed and result["skipped"] == {str(running): "Running", str(waiting): "Received"}
    after = row(alice, failed, "Status", "MinorStatus")
    assert (after["Status"], after["MinorStatus"]) == ("Deleted", f"Replaced by job {new}")
    replacement = row(alice, new, "JobName", "JobGroup", "Status")
    assert (replacement["JobName"], replacement["JobGroup"]) == (f"{before['JobName']}_r1", project)
    # DiracX 0.7 has no JDL read: its reschedule answers with the JDL, which shows the overrides.
    ad = jdl.parse(alice.reschedule([new])["success"][str(new)]["InputData"])
    assert ad.integer("CPUTime") == 1800 and ad.strings("BannedSites") == ["LCG.KEK.jp"]
    args = shlex.split(ad.string("Arguments"))
    assert "--basf2opt=-n 5" in args and f"--generation={before['RescheduleCounter'] + 1}" in args, args
    assert ad.string("JobName") == f"{before['JobName']}_r1"

    first = gb2(user, "gb2_job_output", "-j", str(new), "--attempt", "1", "--dir", str(tmp_path), "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    ran = json.loads(first.stdout)
    assert ran["ran_as"]["job_id"] == failed and ran["attempts"] == 2
    assert "no variable named mbc_17" in (Path(ran["folder"]) / "Script1_basf2helper.py.log").read_text()
    info = json.loads(gb2(user, "gb2_job_info", "-j", str(new), "--json").stdout)
    assert [a["job_id"] for a in info["attempts"]] == [failed, new]
    status = gb2(user, "gb2_job_status", "-p", project)
    assert "Deleted:1" in status.stdout and "Failed:0" in status.stdout


def test_peek_job_info_and_waiting_on_real_diracx(user, logged_in, tmp_path):  # noqa: F811
    alice = logged_in
    project = f"pk{run_id()}"
    failed, running, waiting = one_failed_one_running(user, alice, project, tmp_path, "broken")
    # What gb2's job wrapper sends with each heartbeat: real DiracX 0.7 takes the output's tail.
    assert alice.heartbeat({running: {"StandardOutput": "processing event 10\nprocessing event 20", "CPUConsumed": 1.5}}) == []
    peek = gb2(user, "gb2_job_peek", "-j", str(running))
    assert peek.returncode == 7 and peek.stderr.count("\n") == 1, peek.stderr
    assert "cannot give a job's parameters back (DiracX 0.7 keeps them but has no route to read them)" in peek.stderr

    info = gb2(user, "gb2_job_info", "-j", str(failed), "--json")
    assert info.returncode == 0, info.stderr
    record = json.loads(info.stdout)
    assert record["job"]["JobID"] == failed and record["job"]["Status"] == "Failed"
    assert record["jdl"] is None and record["parameters"] is None and len(record["notes"]) == 2
    statuses = [h["status"] for h in record["history"]]
    assert statuses[:5] == ["Received", "Checking", "Waiting", "Matched", "Running"] and statuses[-1] == "Failed"
    assert all(h["time"] for h in record["history"])
    text = gb2(user, "gb2_job_info", "-j", str(failed))
    assert "Status history (UTC):" in text.stdout and "Note: JDL: this DiracX server cannot give" in text.stdout

    alice.set_job_status([waiting], status="Checking", source="JobWrapper")
    alice.set_job_status([waiting], status="Waiting", minor="Pilot Agent Submission", source="JobWrapper")
    why = gb2(user, "gb2_diagnostic", "--waiting_job", str(waiting), "--json")
    assert why.returncode == 0, why.stderr
    report = json.loads(why.stdout)
    assert [r["reason"] for r in report["reasons"]] == ["queue"], report
    assert any("sites, platform and input cannot be checked" in note for note in report["notes"])


def test_site_status_on_real_servers(user, logged_in, tmp_path):  # noqa: F811
    alice = logged_in
    project = f"st{run_id()}"
    site = f"LCG.T{run_id()[-6:]}.jp"
    jobs = [j["JobID"] for j in alice.submit_jdl([jdl.dumps({"Executable": "x", "JobName": f"{project}_{i}",
                                                              "JobGroup": project}) for i in range(6)])]  # fmt: skip
    alice.set_metadata({j: {"Site": site} for j in jobs})
    for state in ("Checking", "Waiting", "Matched", "Running"):
        alice.set_job_status(jobs, status=state, source="JobWrapper")
    alice.set_job_status(jobs, status="Failed", minor="Application Finished With Errors", source="JobWrapper")
    r = gb2(user, "gb2_site_status", "--json")
    assert r.returncode == 0, r.stderr
    health = json.loads(r.stdout)
    sites = {s["site"]: s for s in health["sites"]}
    assert (sites[site]["failed"], sites[site]["ended"], sites[site]["failure_rate"]) == (6, 6, 1.0)
    assert health["storage_elements"] and all(s["se"] and s["used_bytes"] is not None for s in health["storage_elements"])
    time.sleep(1.0)
    narrow = json.loads(gb2(user, "gb2_site_status", "--hours", "0.0001", "--no_storage", "--json").stdout)
    assert site not in {s["site"] for s in narrow["sites"]}  # the LastUpdateTime filter: nothing in 0.36 s
