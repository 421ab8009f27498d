"""The web view in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

Without Chromium or Playwright these tests are skipped, unless ``GB2_REQUIRE_BROWSER=1``
(set by ``.ci/run``), where they fail. Screenshots of the three pages at phone and
desktop size are saved in ``out/screenshots/`` (``GB2_TEST_OUT`` moves ``out/``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gb2.client.tokens import TokenStore
from tests.cli import EXAMPLES, failing_steering, finished_good_and_bad, submit
from tests.webview import web_view

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("GB2_TEST_OUT") or ROOT / "out")
CHROMIUM = os.environ.get("GB2_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
PHONE = {"width": 390, "height": 844}  # an iPhone 12-14 class screen, in CSS pixels
DESKTOP = {"width": 1280, "height": 900}


def unavailable(why: str) -> None:
    if os.environ.get("GB2_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the browser tests cannot run: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install '.[test]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def expect(locator: Any) -> Any:
    """Playwright's expect: it polls through the DOM, without the eval that the CSP forbids."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def sleeping_steering(tmp_path: Path, seconds: float) -> str:
    path = tmp_path / "sleeps.py"
    path.write_text(f"import time, basf2\ntime.sleep({seconds})\n")
    return str(path)


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def shoot(page: Any, name: str) -> Path:
    folder = OUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_three_pages_on_phone_and_desktop_without_the_grid_token(grid, browser, tmp_path):
    """The list shows the right counts; nothing scrolls sideways on a phone; the grid token
    appears in no page and no request or response (all recorded in a HAR file); screenshots."""
    ok, bad = finished_good_and_bad(grid, tmp_path, "analysis_B0", "broken_skim")
    submit(grid, "mc_gen", EXAMPLES / "mc_generation.py", "--repetition", "2")
    grid.wait_project("mc_gen")
    expected = {p["project"]: p for p in grid.run("gb2_project_summary", "--json").json()["projects"]}
    submit(grid, "long_run", sleeping_steering(tmp_path, 120), "--repetition", "3")  # still going in the pictures
    tokens = TokenStore.for_profile("test").load()
    secrets = [tokens["access_token"], tokens["refresh_token"]]
    with web_view("test") as view:
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            har = tmp_path / f"{label}.har"
            context = browser.new_context(viewport=viewport, record_har_path=str(har), record_har_content="embed")
            page = context.new_page()
            page.goto(view.login_url)
            assert page.url == view.url + "/"
            for name, item in expected.items():
                card = page.locator(f'[data-project="{name}"]')
                assert card.locator('[data-count="Done"]').inner_text() == f"{item['done']} done"
                assert card.locator('[data-count="Failed"]').inner_text() == f"{item['failed']} failed"
                assert card.locator('[data-count="Total"]').inner_text().startswith(f"{item['jobs']} job")
            assert page.locator('[data-project="broken_skim"]').get_attribute("data-state") == "Failed"
            assert page.locator('[data-project="long_run"]').get_attribute("data-state") == "Running"
            assert "failure rate 100 %" in page.locator('[data-project="broken_skim"]').inner_text()
            assert no_horizontal_scroll(page)
            shoot(page, f"projects-{label}")

            page.click('[data-project="analysis_B0"] a')
            page.wait_for_selector("#output")
            assert "gb2_ds_get analysis_B0" in page.inner_text("#output")
            assert no_horizontal_scroll(page)
            shoot(page, f"project-{label}")

            page.goto(f"{view.url}/j/{bad[0]}")
            assert "broken analysis" in page.inner_text("#log")
            assert no_horizontal_scroll(page)
            shoot(page, f"job-{label}")
            page.wait_for_timeout(1200)  # let a live refresh or two happen and be recorded
            assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly
            context.close()
            recorded = har.read_text()
            entries = json.loads(recorded)["log"]["entries"]
            kinds = {e["_resourceType"] for e in entries}
            assert len(entries) > 8 and {"document", "fetch", "script", "stylesheet"} <= kinds, kinds
            assert any("broken analysis" in (e["response"]["content"].get("text") or "") for e in entries)
            for secret in secrets:
                assert secret not in recorded and secret[-40:] not in recorded
    grid.run("gb2_job_kill", "-p", "long_run", "--force")


def test_a_request_without_the_token_is_refused(grid, browser):
    with web_view("test") as view:
        context = browser.new_context()
        page = context.new_page()
        response = page.goto(view.url + "/")
        assert response.status == 403 and "token that gb2_web printed" in page.inner_text("body")
        assert page.goto(view.url + "/?token=guess").status == 403
        assert page.goto(view.login_url).status == 200  # the printed address works, then the cookie does
        assert page.goto(view.url + "/p/nosuchproject").status == 404  # let in: not found, not refused
        context.close()


def test_a_project_page_follows_its_jobs_without_a_reload(grid, browser, tmp_path):
    submit(grid, "slowpoke", sleeping_steering(tmp_path, 5), "--repetition", "2")
    with web_view("test") as view:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.goto(view.login_url)
        page.goto(view.url + "/p/slowpoke")
        assert page.inner_text('#overview [data-count="Done"]') == "0 done"
        page.evaluate("window.notReloaded = true")
        expect(page.locator('#overview [data-count="Done"]')).to_have_text("2 done", timeout=90_000)
        assert page.evaluate("window.notReloaded === true")
        assert page.inner_text("#overview [data-state]") == "Done"
        assert page.locator("#jobs td.st-done").count() == 2
        context.close()


def test_filters_survive_a_reload(grid, browser, tmp_path):
    finished_good_and_bad(grid, tmp_path, "keep_me", "drop_me")
    with web_view("test") as view:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(view.login_url)
        assert page.locator("[data-project]").count() == 2
        page.fill('input[name="name"]', "drop")
        page.check('input[name="not_name"]')
        expect(page.locator("[data-project]")).to_have_count(1)
        page.check('input[name="status"][value="Done"]')
        page.wait_for_url(re.compile(r".*status=Done.*"))
        assert "name=drop" in page.url and "not_name=1" in page.url
        page.reload()
        assert page.input_value('input[name="name"]') == "drop"
        assert page.is_checked('input[name="not_name"]') and page.is_checked('input[name="status"][value="Done"]')
        assert [page.locator("[data-project]").get_attribute("data-project")] == ["keep_me"]
        context.close()


def test_reschedule_and_kill_from_the_page(grid, browser, tmp_path):
    """Reschedule a project's failed jobs; kill a project, then reschedule the cluster of its
    killed jobs; each after a confirmation, each seen by gb2_job_status."""
    [failed] = submit(grid, "to_resched", failing_steering(tmp_path))
    grid.wait_project("to_resched")
    sleepers = submit(grid, "to_kill", sleeping_steering(tmp_path, 60), "--repetition", "2")
    with web_view("test") as view:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(view.login_url)

        page.goto(view.url + "/p/to_resched")
        page.click("text=Reschedule failed jobs")
        assert "1 job will be rescheduled" in page.inner_text(".confirm-count")
        assert grid.run("gb2_job_status", "-j", str(failed), "--json").json()["jobs"][0]["reschedule_count"] == 0
        page.click("#confirm")
        assert page.inner_text(".notice") == "1 job rescheduled."
        assert grid.run("gb2_job_status", "-j", str(failed), "--json").json()["jobs"][0]["reschedule_count"] == 1

        page.goto(view.url + "/p/to_kill")
        page.click("text=Kill project")
        page.click("#confirm")
        assert page.inner_text(".notice") == "2 jobs killed."
        statuses = grid.run("gb2_job_status", "-p", "to_kill", "--json").json()
        assert statuses["summary"]["Killed"] == 2
        page.reload()
        cluster = page.locator('[data-cluster^="killed-"]')
        assert "2 jobs" in cluster.inner_text()
        cluster.locator("text=Reschedule these").click()
        assert "2 jobs will be rescheduled" in page.inner_text(".confirm-count")
        page.click("#confirm")
        assert page.inner_text(".notice") == "2 jobs rescheduled."
        after = grid.run("gb2_job_status", "-p", "to_kill", "--json").json()["jobs"]
        assert {j["job_id"] for j in after} == set(sleepers)
        assert all(j["reschedule_count"] == 1 and j["status"] != "Killed" for j in after)
        grid.run("gb2_job_kill", "-p", "to_kill", "--force")
        context.close()
