"""gb2_web against the real DiracX 0.7 and Rucio 41, through a profile that points at them.

The real gb2_web command serves alice's view; the test is the browser (an HTTP client
holding the cookie the printed address sets). Real DiracX runs no jobs, so the test
plays the job wrapper: one job fails with a log, one runs, one waits. The pages must
show them, and rescheduling and killing from the page must reach DiracX.
"""

from __future__ import annotations

import json
import re
import subprocess

import httpx

from tests.contract.targets import run_id
from tests.contract.test_contract_commands import BIN, gb2, logged_in, one_failed_one_running, user  # noqa: F401


def test_gb2_web_against_the_real_servers(user, logged_in, tmp_path):  # noqa: F811
    alice = logged_in
    project = f"web{run_id()}"
    failed, running, waiting = one_failed_one_running(user, alice, project, tmp_path, "broken analysis in the web view")

    proc = subprocess.Popen([str(BIN / "gb2_web")], env=user["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        url = proc.stdout.readline().strip()
        base = url.split("/?")[0]
        assert httpx.get(base + "/").status_code == 403
        with httpx.Client(base_url=base, timeout=60) as browser:
            assert browser.get(url).status_code == 303
            listing = browser.get("/").text
            card = re.search(rf'data-project="{project}".*?</li>', listing, flags=re.S).group(0)
            for label, n in (("Failed", 1), ("Running", 1), ("Waiting", 1), ("Done", 0)):
                assert f'data-count="{label}">{n} ' in card, (label, card)

            page = browser.get(f"/p/{project}").text
            assert 'data-status="Failed">1<' in page and 'data-status="Running">1<' in page
            assert 'data-cluster="analysis-' in page and f'href="/j/{failed}"' in page
            assert f"/belle/user/alice/{project}" in page and '<svg class="timeline"' in page

            job = browser.get(f"/j/{failed}").text
            assert "broken analysis in the web view" in job
            assert re.search(r">Received<.*>Checking<.*>Running<.*>Failed<", job, flags=re.S)

            def act(action: str, expected: str) -> None:
                confirm = browser.get(f"/p/{project}/{action}").text
                csrf = re.search(r'name="csrf" value="([^"]+)"', confirm).group(1)
                done = browser.post(f"/p/{project}/{action}", data={"csrf": csrf}, headers={"Origin": base})
                assert done.status_code == 303, done.text
                assert expected in browser.get(done.headers["location"]).text

            act("reschedule", "1 job rescheduled.")
            counter = next(alice.iter_search(["RescheduleCounter"], [{"parameter": "JobID", "operator": "eq", "value": failed}]))
            assert counter["RescheduleCounter"] == 1
            assert browser.get(f"/j/{failed}").text.count("Job Rescheduled") >= 1
            act("kill", "2 jobs killed.")
            status = gb2(user, "gb2_job_status", "-p", project, "--json")
            assert json.loads(status.stdout)["summary"]["Killed"] == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
