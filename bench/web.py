"""Time to first paint of gb2_web's project list for a user with 50 projects and 100,000 jobs.

    python bench/web.py [--projects 50] [--jobs 100000] [--runs 7]

Starts an embedded server (engine off) and fills it, server-side as setup (not
timed), with ``--jobs`` jobs of alice spread over ``--projects`` projects in a mix
of states (done, failed, running, waiting), and one project of 10 jobs for bob
(the baseline, measured in the same run). Then runs the real ``gb2_web`` command
for each user and opens the list in headless Chromium (Debian's ``chromium``,
through Playwright), a fresh browser context per run. Prints the medians of:

* first contentful paint (the browser's paint timing), the figure asked for;
* the document's response end and DOMContentLoaded (navigation timing);
* the server-side answer to one live refresh of the list (httpx, same cookie);

and the peak resident memory (VmHWM) of each gb2_web process, and the browser's
JavaScript heap. The machine may be shared: compare with the baseline's figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("GB2_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def fill(server, user: str, projects: int, jobs: int) -> None:  # type: ignore[no-untyped-def]
    """``jobs`` jobs of ``user`` in ``projects`` projects, put in server-side with varied states."""
    from gb2.jobs import jdl
    from gb2.jobs.states import DONE, FAILED, RUNNING, Minor
    from gb2.server.diracx.jobdb import Caller

    jobdb = server.state.services["jobs"]
    jobdb.max_jobs_per_submission = 5000  # setup only: DiracX takes at most 20 per call from a user
    caller = Caller(user, "belle", "belle", ("NormalUser",))
    per_project = jobs // projects
    for p in range(projects):
        name = f"{user}_ana_{p:03d}"
        texts = [jdl.dumps({"Executable": "basf2helper.py", "JobName": f"{name}_{i:05d}", "JobGroup": name,
                            "JobType": "User", "CPUTime": 600}) for i in range(per_project)]  # fmt: skip
        ids = [row["JobID"] for row in jobdb.submit(caller, texts)]
        # Older projects are further on: project p has done p/projects of its jobs, some failed.
        progress = (p + 1) / projects
        started = ids[: int(len(ids) * min(1.0, progress + 0.1))]
        ended = ids[: int(len(ids) * progress)]
        failed = ended[:: 17]
        jobdb.set_status_now(started, RUNNING, Minor.APPLICATION, force=True)
        jobdb.set_status_now(sorted(set(ended) - set(failed)), DONE, Minor.EXEC_COMPLETE, force=True)
        jobdb.set_status_now(failed, FAILED, Minor.APP_ERRORS, force=True)


#: The page's first contentful paint (ms from navigation start), waited for if not yet reported.
FIRST_PAINT = """new Promise((resolve) => {
  const seen = () => performance.getEntriesByName('first-contentful-paint')[0];
  if (seen()) { resolve(seen().startTime); return; }
  new PerformanceObserver((list) => {
    const e = list.getEntriesByName('first-contentful-paint')[0];
    if (e) resolve(e.startTime);
  }).observe({type: 'paint', buffered: true});
  setTimeout(() => resolve(-1), 5000);
})"""


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(browser, url: str, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import httpx

    figures: dict[str, list[float]] = {"fcp": [], "response_end": [], "dom_content_loaded": [], "live_refresh": []}
    heap = 0.0
    base = url.split("/?")[0]
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)  # the printed address: token, cookie, redirect to /
        page.goto(base + "/", wait_until="load")  # the list, as every later visit sees it
        paint = page.evaluate(FIRST_PAINT)
        nav = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                            " return [n.responseEnd, n.domContentLoadedEventEnd]; })()")  # fmt: skip
        heap = max(heap, page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0"))
        figures["fcp"].append(paint)
        figures["response_end"].append(nav[0])
        figures["dom_content_loaded"].append(nav[1])
        cookie = {c["name"]: c["value"] for c in context.cookies()}
        with httpx.Client(base_url=base, cookies=cookie, timeout=120) as client:
            start = time.perf_counter()
            client.get("/", headers={"X-Gb2-Live": "1"}).raise_for_status()
            figures["live_refresh"].append((time.perf_counter() - start) * 1000)
        context.close()
    out = {k: statistics.median(v) for k, v in figures.items()}
    out["js_heap"] = heap
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-web-"))
    env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
           "GB2_DATA_DIR": str(work / "data")}  # fmt: skip
    os.environ.update(env)

    from playwright.sync_api import sync_playwright

    from gb2.client.diracx import DiracX
    from gb2.client.tokens import TokenStore
    from gb2.config import Config, Profile
    from gb2.login import secret_approval
    from gb2.server.runner import EmbeddedServer
    from gb2.server.settings import ServerSettings, User

    server = EmbeddedServer(ServerSettings(data_dir=work / "server", run_engine=False,
                                           users=[User("alice"), User("bob")])).start()  # fmt: skip
    procs: dict[str, subprocess.Popen] = {}
    try:
        config = Config()
        for user in ("alice", "bob"):
            config.profiles[user] = Profile(user, "remote", diracx_url=server.url, rucio_url=f"{server.url}/rucio")
            DiracX(server.url, TokenStore.for_profile(user)).login(
                "vo:belle group:belle", secret_approval(server.settings.login_secret_path, user), interval=0.05)
        config.save()
        start = time.perf_counter()
        fill(server, "alice", args.projects, args.jobs)
        fill(server, "bob", 1, 10)
        print(f"setup: {args.jobs} jobs of alice in {args.projects} projects, 10 of bob in 1, "
              f"put in server-side in {time.perf_counter() - start:.0f} s")  # fmt: skip

        bindir = Path(sys.executable).parent
        urls = {}
        for user in ("alice", "bob"):
            proc = subprocess.Popen([str(bindir / "gb2_web")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True, env={**env, "GB2_PROFILE": user})  # fmt: skip
            procs[user] = proc
            urls[user] = proc.stdout.readline().strip()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            results = {user: measure(browser, urls[user], args.runs) for user in ("bob", "alice")}
            browser.close()
        for user, r in results.items():
            label = f"{args.projects} projects, {args.jobs} jobs" if user == "alice" else "baseline: 1 project, 10 jobs"
            print(f"{label:<32} first contentful paint {r['fcp']:7.0f} ms | response end {r['response_end']:7.0f} ms"
                  f" | DOMContentLoaded {r['dom_content_loaded']:7.0f} ms | live refresh {r['live_refresh']:7.0f} ms"
                  f" | gb2_web peak RSS {vm_hwm(procs[user].pid) / 2**20:5.0f} MiB | JS heap {r['js_heap'] / 2**20:4.1f} MiB")  # fmt: skip
        print(f"(medians of {args.runs} runs, each in a fresh browser context; the machine may be shared)")
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=30)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
