"""The everyday loop of a gb2 user, run through the fault proxy, then checked through a clean connection.

login, three projects (an analysis over uubar, one whose job fails once, and an
input-less one of ``big`` jobs), status, kill, summary ``--wait``, reschedule, job
output, ``gb2_ds_get`` (its bytes also through the proxy: the server's public URL is
the proxy's). ``gb2_ds_put`` is not part of it (not on this branch); ``gb2_ds_rep``
is not either (its rules are evaluated inside the server, no transfer goes through
the proxy). Commands run in this process through the console-script entry point,
so the retries they log (``gb2.retry``) are counted.

Checks, on a direct connection to the server: no job name present twice (among
jobs not Deleted), none missing, every downloaded file matching the catalogue's
size and adler32, nothing partial under a final name, every Done job's logs fetched.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gb2.client.diracx import DiracX
from gb2.client.rucio import RucioClient
from gb2.client.tokens import TokenStore
from gb2.config import Config, Profile
from gb2.data.checksum import adler32_file, normalise_adler32
from gb2.data.manifest import NAME as MANIFEST_NAME
from gb2.login import secret_approval
from gb2.server.runner import EmbeddedServer
from gb2.server.settings import ServerSettings, User
from tests.faults.proxy import FaultProxy
from tests.helpers import flaky_steering

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "light-2511-gacrux"
UUBAR = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025676/s00/e1003/4S/r00000/uubar/mdst"
FINAL = frozenset({"Done", "Failed", "Killed", "Deleted", "Completed"})
#: The environment of the loop: short timeouts (a stall costs one), quick first retries.
ENV = {"GB2_HTTP_TIMEOUT": "2", "GB2_RETRY_WAIT": "0.1", "GB2_RETRIES": "6", "GB2_RETRY_DEADLINE": "120"}


@dataclass
class Step:
    tool: str
    args: tuple[str, ...]
    codes: list[int] = field(default_factory=list)  # exit code of each run (first try, rerun)
    retries: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def first_try_ok(self) -> bool:
        return self.codes[:1] == [0]

    @property
    def ok(self) -> bool:
        return bool(self.codes) and self.codes[-1] == 0


@dataclass
class Report:
    rate: float
    seed: int
    big: int
    steps: list[Step] = field(default_factory=list)
    jobs: int = 0
    duplicates: int = 0
    extra_copies_removed: int = 0
    missing: int = 0
    files: int = 0
    corrupt: int = 0
    partial: int = 0
    missing_files: int = 0
    missing_logs: int = 0
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    routes: dict[str, int] = field(default_factory=dict)  # requests by their first two path segments
    seconds: float = 0.0

    @property
    def commands(self) -> int:
        return len(self.steps)

    @property
    def first_try(self) -> int:
        return sum(s.first_try_ok for s in self.steps)

    @property
    def reruns(self) -> int:
        return sum(len(s.codes) - 1 for s in self.steps)

    @property
    def retries(self) -> int:
        return sum(s.retries for s in self.steps)

    @property
    def all_ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.corrupt or self.partial or self.missing_files
                    or self.missing_logs)  # fmt: skip

    def details(self) -> str:
        lines = [f"rate {self.rate:.0%}, seed {self.seed}, {self.big}-job project, {self.seconds:.0f} s; "
                 f"{self.requests} requests through the proxy, faults injected: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
                 "requests by route: " + ", ".join(f"{k} {v}" for k, v in sorted(self.routes.items())),
                 "", "| command | exit codes | retries | seconds |", "| --- | --- | --- | --- |"]  # fmt: skip
        for s in self.steps:
            lines.append(f"| `{s.tool} {' '.join(s.args)}` | {', '.join(map(str, s.codes))} | {s.retries} "
                         f"| {s.seconds:.1f} |")  # fmt: skip
        for s in self.steps:
            for error in s.errors:
                lines.append(f"  {s.tool}: {error}")
        return "\n".join(lines)


SUMMARY_HEAD = ("| fault rate | commands run | first-try successes | reruns | retries used | faults injected "
                "| duplicate jobs | missing jobs | files checked | corrupt files | partial files |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")  # fmt: skip


def summary_row(r: Report) -> str:
    return (f"| {r.rate:.0%} | {r.commands} | {r.first_try} | {r.reruns} | {r.retries} | {sum(r.faults.values())} "
            f"| {r.duplicates} | {r.missing} | {r.files} | {r.corrupt} | {r.partial} |")  # fmt: skip


class _RetryCounter(logging.Handler):
    """Counts the retries commands log (not those of the engine's job threads)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not record.threadName.startswith("gb2-job"):
            self.count += 1


@contextlib.contextmanager
def _environment(workdir: Path) -> Iterator[None]:
    values = {**ENV, "GB2_CONFIG_DIR": str(workdir / "config"), "GB2_CACHE_DIR": str(workdir / "cache"),
              "GB2_DATA_DIR": str(workdir / "data"), "GB2_PROFILE": ""}  # fmt: skip
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    os.environ.pop("GB2_PROFILE")
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run(tool: str, args: tuple[str, ...]) -> tuple[int, str, str]:
    from commands._entry import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(tool, list(args))
    return code, out.getvalue(), err.getvalue()


class Loop:
    def __init__(self, workdir: Path, *, rate: float, seed: int, big: int, reruns: int = 1,
                 stall_seconds: float = 2.5) -> None:  # fmt: skip
        self.workdir = workdir
        self.report = Report(rate, seed, big)
        self.reruns = reruns
        self.proxy = FaultProxy(rate=0.0, seed=seed, stall_seconds=stall_seconds)
        self.counter = _RetryCounter()
        self.rate = rate

    # -- commands --------------------------------------------------------------------------
    def command(self, tool: str, *args: str, rerun_args: tuple[str, ...] = ()) -> Step:
        step = Step(tool, tuple(args))
        started = time.monotonic()
        before = self.counter.count
        for attempt in range(1 + self.reruns):
            code, out, err = _run(tool, step.args + (rerun_args if attempt else ()))
            step.codes.append(code)
            if code == 0:
                break
            said = (err.strip() or out.strip()).splitlines()
            step.errors.append(" / ".join(said[-3:]) if said else f"exit {code}")
        step.retries = self.counter.count - before
        step.seconds = time.monotonic() - started
        self.report.steps.append(step)
        return step

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.monotonic()
        with _environment(self.workdir):
            settings = ServerSettings(data_dir=self.workdir / "server", users=[User("alice")], workers=2,
                                      heartbeat_seconds=0.5, engine_poll_seconds=0.2, min_cpu_time=1,
                                      public_url=self.proxy.url)  # fmt: skip
            logger = logging.getLogger("gb2.retry")
            level = logger.level
            logger.addHandler(self.counter)
            logger.setLevel(logging.INFO)
            server = EmbeddedServer(settings).start()
            self.proxy.set_upstream(server.url)
            self.proxy.start()
            try:
                self._profile(server)
                self.proxy.rate = self.rate
                names = self._everyday(server)
                self.proxy.enabled = False
                self._check(server, names)
            finally:
                self.proxy.stop()
                server.stop()
                logger.removeHandler(self.counter)
                logger.setLevel(level)
        self.report.requests = self.proxy.stats.requests
        self.report.faults = dict(self.proxy.stats.faults)
        for event in self.proxy.stats.events:
            method, path = event.route.split(" ", 1)
            key = f"{method} {'/'.join(path.split('/')[:3])}"
            self.report.routes[key] = self.report.routes.get(key, 0) + 1
        self.report.seconds = time.monotonic() - started
        return self.report

    def _profile(self, server: EmbeddedServer) -> None:
        config = Config.load()
        config.profiles["faulty"] = Profile("faulty", "remote", diracx_url=self.proxy.url,
                                            rucio_url=f"{self.proxy.url}/rucio",
                                            login_secret_file=str(server.settings.login_secret_path))  # fmt: skip
        config.active_profile = "faulty"
        config.save()

    def _everyday(self, server: EmbeddedServer) -> dict[str, list[str]]:
        w = self.workdir
        flaky = flaky_steering(w)
        quick = w / "quick.py"
        quick.write_text("import basf2\n")
        ana, flk, many = "loopana", "loopflaky", "loopmany"
        self.command("gb2_proxy_init")
        resume = ("--resume",)
        self.command("gbasf2", str(ROOT / "steering_examples" / "ntuple_analysis.py"), "-p", ana, "-s", RELEASE,
                     "-i", UUBAR, "--force", rerun_args=resume)  # fmt: skip
        self.command("gbasf2", str(flaky), "-p", flk, "-s", RELEASE, "-i", f"{UUBAR}/sub00", "-n", "3", "--force",
                     rerun_args=resume)  # fmt: skip
        self.command("gbasf2", str(quick), "-p", many, "-s", RELEASE, "--repetition", str(self.report.big),
                     "--force", rerun_args=resume)  # fmt: skip
        self.command("gb2_job_status", "-p", many)
        self.command("gb2_job_kill", "-p", many, "--force")
        self.command("gb2_project_summary", "-p", ana, "--wait", "--interval", "1", "--timeout", "600")
        self._wait_final(server, flk)
        self.command("gb2_job_reschedule", "-p", flk, "--force")
        self.command("gb2_project_summary", "-p", flk, "--wait", "--interval", "1", "--timeout", "600")
        self.command("gb2_job_output", "-p", ana, "--dir", str(w / "out"))
        self.command("gb2_ds_get", ana, "-d", str(w / "dl"), "--force")
        self.command("gb2_project_analysis", "-p", many)
        clean = self._clean(server)
        files = len(list(clean[1].resolve(UUBAR)))
        return {ana: [f"{ana}_{i:05d}" for i in range(files)], flk: [f"{flk}_00000"],
                many: [f"{many}_{i:05d}" for i in range(self.report.big)]}  # fmt: skip

    # -- checks through a clean connection -----------------------------------------------------
    def _clean(self, server: EmbeddedServer) -> tuple[DiracX, RucioClient]:
        if not hasattr(self, "_clean_clients"):
            dx = DiracX(server.url, TokenStore(self.workdir / "clean-token.json"))
            dx.login("vo:belle group:belle", secret_approval(server.settings.login_secret_path), interval=0.05)
            self._clean_clients = (dx, RucioClient(f"{server.url}/rucio", token=dx.access_token))
        return self._clean_clients

    def _wait_final(self, server: EmbeddedServer, project: str, timeout: float = 300) -> None:
        dx = self._clean(server)[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = dx.summary(["Status"], [{"parameter": "JobGroup", "operator": "eq", "value": project}])
            if rows and all(r["Status"] in FINAL for r in rows):
                return
            time.sleep(0.3)

    def _check(self, server: EmbeddedServer, expected: dict[str, list[str]]) -> None:
        dx, rucio = self._clean(server)
        r = self.report
        done_jobs: list[int] = []
        for project, names in expected.items():
            rows = list(dx.iter_search(["JobID", "JobName", "Status"],
                                       [{"parameter": "JobGroup", "operator": "eq", "value": project}]))  # fmt: skip
            r.jobs += len(rows)
            live: dict[str, int] = {}
            every: dict[str, int] = {}
            for row in rows:
                every[row["JobName"]] = every.get(row["JobName"], 0) + 1
                if row["Status"] != "Deleted":
                    live[row["JobName"]] = live.get(row["JobName"], 0) + 1
                if row["Status"] == "Done" and project == "loopana":
                    done_jobs.append(int(row["JobID"]))
            r.duplicates += sum(n - 1 for n in live.values() if n > 1)
            r.extra_copies_removed += sum(n - 1 for n in every.values() if n > 1) - sum(
                n - 1 for n in live.values() if n > 1)
            r.missing += len(set(names) - set(every))
        catalogue = {f.name.rsplit("/", 1)[-1]: f for f in rucio.resolve("/belle/user/alice/loopana")}
        got: dict[str, Path] = {}
        for path in (self.workdir / "dl").rglob("*"):
            if path.is_file() and not path.name.startswith(".") and path.name != MANIFEST_NAME:
                got[path.name] = path
        for name, f in catalogue.items():
            path = got.get(name)
            if path is None:
                r.missing_files += 1
                continue
            r.files += 1
            size = path.stat().st_size
            if f.bytes is not None and size < f.bytes:
                r.partial += 1
            elif size != f.bytes or (f.adler32 and adler32_file(path) != normalise_adler32(f.adler32)):
                r.corrupt += 1
        r.corrupt += len(set(got) - set(catalogue))  # a file under a final name the catalogue does not know
        for job in done_jobs:
            if not (self.workdir / "out" / "log" / "loopana" / str(job) / "std.out").is_file():
                r.missing_logs += 1


def run_loop(workdir: Path, *, rate: float, seed: int, big: int, reruns: int = 1) -> Report:
    """One everyday loop at ``rate``; the proxy's faults are replayed by ``seed``."""
    assert threading.current_thread() is threading.main_thread() or True
    workdir.mkdir(parents=True, exist_ok=True)
    return Loop(workdir, rate=rate, seed=seed, big=big, reruns=reruns).run()
