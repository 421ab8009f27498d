"""gb2_job_peek and gb2_job_info on the embedded grid: a running job's output as its heartbeats
publish it, a job's record, JDL, parameters and status history with times."""

from __future__ import annotations

import time

from gb2.jobs import jdl
from tests.cli import RELEASE
from tests.webview import logged_in, web_view


def test_peek_a_running_job_and_its_record(mixed, capsys, tmp_path):
    grid = mixed.grid(capsys)
    steering = tmp_path / "slow.py"
    steering.write_text("import time\nimport basf2\nfor step in range(1, 40):\n"
                        "    print(f'processing step {step} of /belle/data/file_{step}.root', flush=True)\n"
                        "    time.sleep(0.25)\n")  # fmt: skip
    r = grid.run("gbasf2", str(steering), "-p", "peek", "-s", RELEASE, "--site", "LCG.KIT.de", "--force", "--json")
    assert r.code == 0, r.err
    [job] = r.json()["job_ids"]
    deadline = time.monotonic() + 60
    while True:
        seen = grid.run("gb2_job_peek", "-j", str(job), "--json")
        assert seen.code == 0, seen.err
        data = seen.json()
        if data["running"] and any("step 3 " in line for line in data["lines"]):
            break
        assert time.monotonic() < deadline, data
        time.sleep(0.2)
    assert data["site"] == "LCG.KIT.de" and data["status"] == "Running"
    text = grid.run("gb2_job_peek", "-j", str(job))
    assert text.code == 0 and f"Job {job} (peek_00000) at LCG.KIT.de: Running" in text.out
    assert "  | processing step" in text.out

    with web_view("test") as view, logged_in(view) as client:  # the job's page shows the same lines
        assert "processing step" in client.get(f"/j/{job}").text.split('id="peek"')[1].split("</section>")[0]

    info = grid.run("gb2_job_info", "-j", str(job), "--json").json()
    assert info["job"]["JobID"] == job and info["job"]["Site"] == "LCG.KIT.de"
    ad = jdl.parse(info["jdl"])
    assert ad.string("Executable") == "basf2helper.py" and ad.strings("Site") == ["LCG.KIT.de"]
    assert "StandardOutput" in info["parameters"] and "CPUConsumed" in info["parameters"]
    assert [h["status"] for h in info["history"]][:4] == ["Received", "Checking", "Waiting", "Matched"]
    assert all(h["time"] and h["source"] for h in info["history"]) and info["notes"] == []

    grid.wait_project("peek", timeout=60)
    after = grid.run("gb2_job_peek", "-j", str(job), "--json").json()
    assert not after["running"] and "gb2_job_output -j" in after["note"]
    shown = grid.run("gb2_job_info", "-j", str(job))
    assert shown.code == 0 and "Status history (UTC):" in shown.out and "JDL:" in shown.out
    assert "Execution Complete" in shown.out and "StandardOutput : (" in shown.out

    assert grid.run("gb2_job_peek", "-j", "987654").code == 5
    assert grid.run("gb2_job_info", "-j", "987654").code == 5
