"""The web view over HTTP, as a browser talks to it: access, pages, filters, actions,
and the gb2_web and gb2_mock_server --web commands. (tests/test_web_browser.py drives
the same pages in a real Chromium.)"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from gb2.client.tokens import TokenStore
from tests.cli import failing_steering, finished_good_and_bad, submit
from tests.webview import LIVE, logged_in, web_view

BIN = Path(sys.executable).parent


def test_only_the_printed_address_lets_a_browser_in(grid):
    with web_view("test") as view:
        assert view.url.startswith("http://127.0.0.1:")
        bare = httpx.get(view.url + "/")
        assert bare.status_code == 403 and "token" in bare.text
        assert httpx.get(view.url + "/?token=wrong").status_code == 403
        assert httpx.get(view.url + "/static/app.css").status_code == 403
        assert httpx.get(view.url + "/", cookies={"gb2web": "made-up"}).status_code == 403

        first = httpx.get(view.login_url + "&name=x")
        assert first.status_code == 303
        assert first.headers["location"] == "/?name=x"  # the token leaves the address bar
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and view.access.token not in cookie
        session = first.cookies["gb2web"]
        page = httpx.get(view.url + "/", cookies={"gb2web": session})
        assert page.status_code == 200 and "Your projects" in page.text
        for header, value in (("x-frame-options", "DENY"), ("referrer-policy", "same-origin"), ("cache-control", "no-store")):
            assert page.headers[header] == value
        assert "script-src 'self'" in page.headers["content-security-policy"]
        # DNS rebinding: another name for this address is refused even with the cookie.
        rebound = httpx.get(view.url + "/", cookies={"gb2web": session}, headers={"Host": "evil.example:80"})
        assert rebound.status_code == 403


def test_project_list_counts_and_filters(grid, tmp_path):
    finished_good_and_bad(grid, tmp_path, "webok", "webbad")
    summary = {p["project"]: p for p in grid.run("gb2_project_summary", "--json").json()["projects"]}
    with web_view("test") as view, logged_in(view) as client:
        page = client.get("/").text
        items = dict(re.findall(r'data-project="([^"]+)" data-state="([^"]+)"', page))
        assert items == {"webok": "Done", "webbad": "Failed"}
        ok = re.search(r'data-project="webok".*?</li>', page, flags=re.S).group(0)
        assert f'data-count="Done">{summary["webok"]["done"]} done' in ok
        assert 'data-count="Total">3 jobs' in ok and "failure rate 0 %" in ok

        def shown(query: str) -> set[str]:
            return set(re.findall(r'data-project="([^"]+)"', client.get(f"/?{query}").text))

        assert shown("name=ok") == {"webok"}
        assert shown("name=web*&not_name=1") == set()
        assert shown("name=*BAD") == {"webbad"}  # globs, case-insensitive
        assert shown("status=Failed") == {"webbad"}
        assert shown("status=Failed&not_status=1") == {"webok"}
        assert shown("status=Done&status=Failed") == {"webok", "webbad"}
        assert shown("status=nonsense") == {"webok", "webbad"}  # unknown values are ignored
        live = client.get("/?status=Done", headers=LIVE).text
        assert live.startswith('<div id="list" data-live>') and "<html" not in live


def test_project_and_job_pages(grid, tmp_path):
    ok, bad = finished_good_and_bad(grid, tmp_path, "pgok", "pgbad")
    with web_view("test") as view, logged_in(view) as client:
        page = client.get("/p/pgok").text
        assert 'data-status="Done">3<' in page
        assert "gb2_ds_get pgok" in page and "/belle/user/alice/pgok" in page
        assert page.count("ntuple_0000") == 3 and "3 files" in page
        assert "<svg class=\"timeline\"" in page and "<th>Jobs</th>" in page
        assert all(f'data-job="{j}"' in page for j in ok)

        failed = client.get("/p/pgbad").text
        assert 'data-cluster="analysis-' in failed and "fix the steering file" in failed
        assert f'href="/j/{bad[0]}"' in failed
        assert "Reschedule these" not in failed  # an analysis error would fail again: not offered
        assert "No output yet" in failed or "0 files" in failed

        job = client.get(f"/j/{bad[0]}").text
        assert "broken analysis" in job  # the tail of its newest log
        assert re.search(r"<td[^>]*>Received</td>.*<td[^>]*>Failed</td>", job, flags=re.S)  # statuses in order
        assert f"gb2_diagnostic --failed_job {bad[0]}" in job

        only_failed = client.get("/p/pgok?jstatus=Done&not_jstatus=1").text
        assert "0 jobs not in Done" in only_failed
        assert client.get("/p/nosuchproject").status_code == 404
        assert client.get("/j/999999").status_code == 404


def test_reschedule_needs_confirmation_and_its_csrf_token(grid, tmp_path):
    [job] = submit(grid, "webresc", failing_steering(tmp_path))
    grid.wait_project("webresc")
    with web_view("test") as view, logged_in(view) as client:
        confirm = client.get("/p/webresc/reschedule").text
        assert "1</b> job will be rescheduled" in confirm
        assert grid.run("gb2_job_status", "-j", str(job), "--json").json()["jobs"][0]["reschedule_count"] == 0
        csrf = re.search(r'name="csrf" value="([^"]+)"', confirm).group(1)

        assert client.post("/p/webresc/reschedule", data={}).status_code == 403
        assert client.post("/p/webresc/reschedule", data={"csrf": "forged"}).status_code == 403
        other_site = client.post("/p/webresc/reschedule", data={"csrf": csrf}, headers={"Origin": "http://evil.example"})
        assert other_site.status_code == 403
        assert grid.run("gb2_job_status", "-j", str(job), "--json").json()["jobs"][0]["reschedule_count"] == 0

        done = client.post("/p/webresc/reschedule", data={"csrf": csrf}, headers={"Origin": view.url})
        assert done.status_code == 303 and done.headers["location"].startswith("/p/webresc?notice=")
        assert "1 job rescheduled." in client.get(done.headers["location"]).text
        assert grid.run("gb2_job_status", "-j", str(job), "--json").json()["jobs"][0]["reschedule_count"] == 1

        grid.wait_project("webresc")
        kill = client.get("/p/webresc/kill").text
        assert "Nothing to kill" in kill


def test_gb2_web_command(grid, tmp_path):
    env = {**os.environ, "GB2_PROFILE": "test"}
    proc = subprocess.Popen([BIN / "gb2_web"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", url), url
        base = url.split("/?")[0]
        assert httpx.get(base + "/").status_code == 403
        with httpx.Client() as browser:
            assert browser.get(url, follow_redirects=True).status_code == 200
        port = int(base.rsplit(":", 1)[1])
        busy = subprocess.run([BIN / "gb2_web", "--port", str(port)], capture_output=True, text=True, env=env, timeout=60)
        assert busy.returncode == 2 and busy.stderr.startswith("gb2_web: error: cannot listen on 127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    TokenStore.for_profile("test").delete()
    out = subprocess.run([BIN / "gb2_web"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 3 and out.stderr.strip() == "gb2_web: error: not logged in: run gb2_proxy_init first"
    assert out.stdout == ""


def test_mock_server_serves_the_web_view(tmp_path):
    proc = subprocess.Popen([BIN / "gb2_mock_server", "--data-dir", tmp_path / "grid", "--user", "ci", "--web",
                             "--no-engine"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        server = proc.stdout.readline().strip()
        web = proc.stdout.readline().strip()
        assert server.startswith("http://127.0.0.1:") and "/?token=" in web
        assert httpx.get(web.split("/?")[0] + "/").status_code == 403
        page = httpx.get(web, follow_redirects=True)
        assert page.status_code == 200 and "ci · mock-web" in page.text
        assert (tmp_path / "grid" / "web" / "tokens.json").stat().st_mode & 0o077 == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        taken.listen(1)
        bad = subprocess.run([BIN / "gb2_mock_server", "--data-dir", tmp_path / "grid2", "--web", "--web-port", str(port),
                              "--no-engine"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in bad.stderr
