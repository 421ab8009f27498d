"""The job wrapper: runs one matched job on this machine, like DIRAC's JobWrapper on a worker node.

It fetches what the job needs over HTTP with a token minted for the job's owner (as a
pilot holds the owner's proxy), through the same client code users run: the input
sandbox, replica lookups and input files; the payload gets that token too. Its own
reports (status updates, heartbeats, the output sandbox) are recorded in the server
it runs in (:mod:`gb2.engine.bookkeeping`). Steps and the minor statuses they report:

Running/Job Initialization -> Downloading InputSandbox -> Input Data Resolution
-> Application -> Completing/Uploading Output Sandbox -> Done/Execution Complete,
or Failed with the minor status of the step that failed.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import os
import shlex
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from gb2.client.diracx import DiracX
from gb2.engine.bookkeeping import Bookkeeping
from gb2.engine.inputdata import fetch_inputs
from gb2.engine.process import Outcome, Payload
from gb2.engine.reaper import Reaper
from gb2.errors import Gb2Error, UnsafePath
from gb2.jobs import jdl
from gb2.jobs.sandbox import extract_archive, make_archive
from gb2.jobs.states import COMPLETING, DONE, FAILED, RUNNING, Minor
from gb2.paths import path_inside

log = logging.getLogger("gb2.engine")

SOFTWARE_AREA = Path(__file__).with_name("software")
TOKEN_FILE = ".gb2_job_token"
RESULT_FILE = ".gb2_wrapper_result.json"
JOB_INFO = "job.info"
#: Lines of the payload's standard output each heartbeat carries (DIRAC's watchdog sends such a
#: tail as the job parameter ``StandardOutput``: what gb2_job_peek shows).
PEEK_LINES = 30
PEEK_BYTES = 16384


@dataclass
class JobSpec:
    """What the engine knows about a matched job."""

    job_id: int
    owner: str
    group: str
    vo: str
    job_group: str
    job_name: str
    site: str
    reschedule_counter: int
    #: The job's JDL, parsed once by the engine.
    ad: jdl.ClassAd
    output_se: str
    local_ses: tuple[str, ...]
    extra_env: dict[str, str] = field(default_factory=dict)
    #: DIRAC's CPUNormalizationFactor of the worker: the JDL's CPUTime / factor is real CPU seconds.
    cpu_factor: float = 1.0
    #: An injected fault (``input``: input files cannot be read; ``lost``: the worker dies).
    fault: str | None = None


class JobFailed(Exception):
    """A step failed: the job ends Failed with this minor status."""

    def __init__(self, minor: str, application: str | None = None, detail: str | None = None) -> None:
        super().__init__(minor)
        self.minor = minor
        self.application = application
        self.detail = detail  # the whole reason, for the job's log (the application status is cut)


class JobRunner(threading.Thread):
    """One job from Matched to a final state."""

    def __init__(
        self,
        spec: JobSpec,
        *,
        bookkeeping: Bookkeeping,
        base_url: str,
        token: str,
        work_root: Path,
        heartbeat_seconds: float,
        basf2_command: list[str],
        keep_workdir: bool,
        on_exit: Any,
        reaper: Reaper | None = None,
    ) -> None:
        super().__init__(name=f"gb2-job-{spec.job_id}", daemon=True)
        self.spec = spec
        self.ad = spec.ad
        self.bookkeeping = bookkeeping
        self.base_url = base_url
        self.token = token
        self.workdir = work_root / f"{spec.job_id}.{spec.reschedule_counter}"
        self.heartbeat_seconds = heartbeat_seconds
        self.basf2_command = basf2_command
        self.keep_workdir = keep_workdir
        self.on_exit = on_exit
        self.reaper = reaper
        self.payload: Payload | None = None
        self._abort = threading.Event()
        self._silent = False  # the job left our hands (killed, rescheduled, engine stopping)
        self._pending: list[tuple[datetime, dict[str, str]]] = []  # deferred status updates
        self._sandbox_sent = False

    @cached_property
    def dx(self) -> DiracX:
        """The owner's client, for what the job fetches (most jobs fetch nothing)."""
        return DiracX(self.base_url, access_token=self.token)

    # -- control from the engine -------------------------------------------------------
    def abort(self, *, silent: bool = True) -> None:
        """Stop the payload; with ``silent`` the job's status is left to whoever changed it."""
        self._silent = silent
        self._abort.set()
        if self.payload is not None:
            self.payload.terminate(grace=2.0)

    # -- status reporting --------------------------------------------------------------
    def report(self, status: str | None = None, minor: str | None = None, application: str | None = None,
               *, defer: bool = False) -> None:  # fmt: skip
        """Send a status update. ``defer``: the next step follows at once (nothing to download,
        say), so this update waits, stamped with its own time, and goes in the same request as
        the next one: the job's history is the same, with fewer requests."""
        if self._silent:
            return
        update = {k: v for k, v in (("Status", status), ("MinorStatus", minor), ("ApplicationStatus", application))
                  if v is not None}  # fmt: skip
        stamp = datetime.now(timezone.utc)
        if self._pending and stamp <= self._pending[-1][0]:
            stamp = self._pending[-1][0] + timedelta(microseconds=1)  # each update its own time, in order
        self._pending.append((stamp, {**update, "Source": "JobWrapper"}))
        if defer:
            return
        pending, self._pending = self._pending, []
        try:
            self.bookkeeping.set_status(self.spec.job_id, {when.isoformat(): fields for when, fields in pending})
        except Gb2Error as exc:
            log.warning("job %s: status report failed: %s", self.spec.job_id, exc)

    # -- the steps ---------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._run()
        except JobFailed as exc:
            self._failure_sandbox(exc)
            self.report(FAILED, exc.minor, exc.application)
        except Exception as exc:  # a bug or an unexpected environment problem: never leave the job Running
            log.exception("job %s: wrapper error", self.spec.job_id)
            self.report(FAILED, Minor.EXCEPTION_DURING_EXECUTION, f"Wrapper error: {type(exc).__name__}: {exc}"[:250])
        finally:
            if not self.keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            else:
                (self.workdir / TOKEN_FILE).unlink(missing_ok=True)
            self.on_exit(self)

    def _run(self) -> None:
        job_id = self.spec.job_id
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        self.report(RUNNING, Minor.JOB_INITIALIZATION, "Unknown", defer=True)
        if self._abort.is_set():
            return
        self._write_job_info([])  # which attempt this is, in the logs of a job that fails early too
        # A step with nothing to fetch takes no time: its update goes with the next one.
        self.report(minor=Minor.DOWNLOADING_INPUT_SANDBOX, defer=not self.ad.strings("InputSandbox"))
        self._input_sandbox()
        self.report(minor=Minor.INPUT_DATA_RESOLUTION, defer=not jdl.lfn_list(self.ad.strings("InputData")))
        inputs = self._input_data()
        self._write_job_info(inputs)
        argv = self._command()
        self.report(minor=Minor.APPLICATION, application="Running")
        if self.spec.fault == "lost":
            self._lose_worker(argv)
            return
        outcome = self._execute(argv)
        if outcome is None or self._abort.is_set():
            return
        self._finish(outcome)
        log.info("job %s finished: rc=%s cpu=%.1fs", job_id, outcome.returncode, outcome.cpu_seconds)

    def _input_sandbox(self) -> None:
        for entry in self.ad.strings("InputSandbox"):
            try:
                if entry.startswith("SB:"):
                    extract_archive(self.dx.download_sandbox(entry), self.workdir)
                elif entry.upper().startswith("LFN:"):
                    self._fetch_lfns([entry[4:]], link=False)
                else:
                    raise JobFailed(Minor.FAILED_DOWNLOADING_INPUT_SANDBOX, f"Unsupported sandbox entry {entry}")
            except Gb2Error as exc:
                raise JobFailed(Minor.FAILED_DOWNLOADING_INPUT_SANDBOX, f"Input sandbox: {exc}"[:250]) from exc

    def _input_data(self) -> list[dict[str, str]]:
        lfns = jdl.lfn_list(self.ad.strings("InputData"))
        if not lfns:
            return []
        try:
            return self._fetch_lfns(lfns, link=True)
        except Gb2Error as exc:
            raise JobFailed(Minor.INPUT_DATA_NOT_AVAILABLE, f"Input data: {exc}"[:250], f"Input data: {exc}") from exc

    def _fetch_lfns(self, lfns: list[str], *, link: bool) -> list[dict[str, str]]:
        """Put the files in the work dir: a link to a replica on this site, else a verified download."""
        return fetch_inputs(self, lfns, link=link)

    def _write_job_info(self, inputs: list[dict[str, str]]) -> None:
        info = {
            "JobID": self.spec.job_id,
            "JobName": self.spec.job_name,
            "JobGroup": self.spec.job_group,
            "Owner": self.spec.owner,
            "OwnerGroup": self.spec.group,
            "VO": self.spec.vo,
            "Site": self.spec.site,
            "RescheduleCounter": self.spec.reschedule_counter,
            "OutputSE": self.ad.string("OutputSE") or self.spec.output_se,
            "CPUTime": self.ad.integer("CPUTime"),
            "InputData": inputs,
        }
        (self.workdir / JOB_INFO).write_text(json.dumps(info, indent=1))

    def _command(self) -> list[str]:
        executable = self.ad.string("Executable")
        if not executable:
            raise JobFailed(Minor.APP_NOT_FOUND, "No Executable in the JDL")
        arguments = shlex.split(self.ad.string("Arguments") or "")
        path = _resolve_executable(executable, self.workdir)
        if path is None:
            raise JobFailed(Minor.APP_NOT_FOUND, f"Executable not found: {executable}")
        if path.suffix == ".py":
            return [sys.executable, str(path), *arguments]
        return [str(path), *arguments]

    def _environment(self) -> dict[str, str]:
        token_file = self.workdir / TOKEN_FILE
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.token)
        private = self.workdir / ".gb2"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GB2_")}
        env.update(
            {
                "DIRACJOBID": str(self.spec.job_id),
                "JOBID": str(self.spec.job_id),
                "DIRACSITE": self.spec.site,
                "GB2_JOB_INFO": str(self.workdir / JOB_INFO),
                "GB2_DIRACX_URL": self.base_url,
                "GB2_RUCIO_URL": f"{self.base_url}/rucio",
                "GB2_JOB_TOKEN_FILE": str(token_file),
                "GB2_BASF2_COMMAND": json.dumps(self.basf2_command),
                "GB2_CONFIG_DIR": str(private / "config"),
                "GB2_CACHE_DIR": str(private / "cache"),
                "GB2_DATA_DIR": str(private / "data"),
                "PATH": f"{SOFTWARE_AREA}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONUNBUFFERED": "1",
                **self.spec.extra_env,
            }
        )
        return env

    def _failure_sandbox(self, exc: JobFailed) -> None:
        """A job that failed before its payload ended still leaves its logs, with the reason
        added to std.out (as DIRAC's job wrapper reports it): the logs say why it failed."""
        if self._sandbox_sent or self._silent or not self.workdir.is_dir():
            return
        try:
            stdout = self._in_workdir(self.ad.string("StdOutput") or "std.out")
            with open(stdout, "a") as out:
                reason = exc.detail or exc.application
                out.write(f"gb2 job wrapper: {exc.minor}" + (f": {reason}" if reason else "") + "\n")
            self._upload_output_sandbox(final_failure=True)
        except (OSError, JobFailed) as err:
            log.warning("job %s: could not leave its logs: %s", self.spec.job_id, err)

    def _lose_worker(self, argv: list[str]) -> None:
        """The injected fault ``lost``: the worker node dies with the payload a moment after it
        started. Nothing more is reported, no log is kept: the job goes silent, and the stalled-job
        watch marks it Stalled, then Failed, as DIRAC's StalledJobAgent does."""
        stdout = self._in_workdir(self.ad.string("StdOutput") or "std.out")
        self.payload = Payload(argv, self.workdir, self._environment(), stdout, stdout, None, self.reaper)
        time.sleep(0.3)
        self._silent = True
        self.payload.terminate(grace=0.5)
        log.warning("job %s: injected fault: its worker at %s is lost", self.spec.job_id, self.spec.site)

    def cpu_limit(self) -> int | None:
        """Real CPU seconds the job may use: its CPUTime over the worker's normalisation factor."""
        cpu = self.ad.integer("CPUTime")
        if not cpu:
            return None
        return max(1, math.ceil(cpu / max(self.spec.cpu_factor, 1e-6)))

    def _execute(self, argv: list[str]) -> Outcome | None:
        cpu_limit = self.cpu_limit()
        wallclock = 2 * (cpu_limit or 86400) + 300
        stdout = self._in_workdir(self.ad.string("StdOutput") or "std.out")
        stderr = self._in_workdir(self.ad.string("StdError") or "std.err")
        try:
            self.payload = Payload(argv, self.workdir, self._environment(), stdout, stderr, cpu_limit, self.reaper)
        except OSError as exc:
            raise JobFailed(Minor.APP_NOT_FOUND, f"Cannot start {argv[0]}: {exc}"[:250]) from exc
        if self._abort.is_set():
            self.payload.terminate(grace=1.0)
        payload = self.payload
        while True:
            outcome = payload.wait(timeout=self.heartbeat_seconds, step=0.02)
            if outcome is not None:
                return outcome
            if self._abort.is_set():
                payload.terminate(grace=2.0)
                continue
            if time.monotonic() - payload.started > wallclock:
                payload.terminate(grace=2.0)
                payload.wait()
                raise JobFailed(Minor.WALLCLOCK_LIMIT)
            self._heartbeat(payload)

    def _in_workdir(self, name: str) -> Path:
        """A file the JDL names: it must stay in the job's folder (the engine runs as the owner)."""
        try:
            return path_inside(self.workdir, name)
        except UnsafePath as exc:
            raise JobFailed(Minor.ILLEGAL_JDL, f"{exc}"[:250]) from None

    def _peek_file(self) -> Path | None:
        """What the application is writing: the newest of its standard output and the logs the
        JDL ships back (basf2helper.py runs basf2 with its output in ``Script1_basf2helper.py.log``)."""
        names = [self.ad.string("StdOutput") or "std.out"] + [n for n in self.ad.strings("OutputSandbox") if n.endswith(".log")]
        found = []
        for name in dict.fromkeys(names):
            try:
                path = path_inside(self.workdir, name)
                stat = path.stat()
            except (UnsafePath, OSError):
                continue
            if stat.st_size:
                found.append((stat.st_mtime, path))
        return max(found)[1] if found else None

    def _heartbeat(self, payload: Payload) -> None:
        data: dict[str, Any] = {"WallClockTime": round(time.monotonic() - payload.started, 1)}
        data.update(payload.usage())
        peek = self._peek_file()
        tail = output_tail(peek) if peek is not None else None
        if tail is not None:
            data["StandardOutput"] = tail
        try:
            load = os.getloadavg()[0]
            data["LoadAverage"] = round(load, 2)
        except OSError:
            pass
        try:
            commands = self.bookkeeping.heartbeat(self.spec.job_id, data)
        except Gb2Error as exc:
            log.warning("job %s: heartbeat failed: %s", self.spec.job_id, exc)
            return
        if any(c.get("command") == "Kill" for c in commands):
            log.info("job %s: kill command received", self.spec.job_id)
            self.abort(silent=True)

    def _finish(self, outcome: Outcome) -> None:
        limit = self.cpu_limit()
        # The CPU time of the payload and of what it started: a child killed at the limit
        # (basf2 under basf2helper.py) counts, as it does for DIRAC's watchdog.
        over = bool(limit and outcome.returncode != 0 and outcome.cpu_seconds >= limit - 1 and not outcome.killed)
        if outcome.cpu_limit_hit or over:
            self._upload_output_sandbox(final_failure=True)
            raise JobFailed(Minor.CPU_LIMIT)
        ok = outcome.returncode == 0
        self.report(COMPLETING, Minor.UPLOADING_OUTPUT_SANDBOX, defer=True)  # sent with the end: logs go fast
        self._upload_output_sandbox(final_failure=not ok)
        # The payload may have set its own ApplicationStatus; otherwise say how it ended.
        untouched = self._application_status() in (None, "Running", "Unknown")
        if ok:
            self.report(DONE, Minor.EXEC_COMPLETE, "Done" if untouched else None)
            return
        result = _read_result(self.workdir)
        application = f"Failed (exit status {outcome.returncode})" if untouched else None
        raise JobFailed(result.get("MinorStatus") or Minor.APP_ERRORS, application)

    def _application_status(self) -> str | None:
        try:
            return self.bookkeeping.application_status(self.spec.job_id)
        except Gb2Error:
            return None

    def _upload_output_sandbox(self, *, final_failure: bool) -> None:
        patterns = self.ad.strings("OutputSandbox")
        for name in (self.ad.string("StdOutput") or "std.out", self.ad.string("StdError") or "std.err"):
            if name not in patterns:
                patterns.append(name)
        files: dict[str, Path] = {}
        for pattern in patterns:
            for match in sorted(glob.glob(pattern, root_dir=self.workdir)):
                try:  # a pattern such as ../* must not ship the owner's files
                    path = path_inside(self.workdir, match)
                except UnsafePath:
                    continue
                if path.is_file() and not path.is_symlink() and not match.startswith(".gb2"):
                    files[match] = path
        if not files:
            return
        try:
            owner = (self.spec.owner, self.spec.group, self.spec.vo)
            self.bookkeeping.output_sandbox(self.spec.job_id, owner, make_archive((p, n) for n, p in files.items()))
            self._sandbox_sent = True
        except Gb2Error as exc:
            if not final_failure:
                raise JobFailed(Minor.UPLOADING_OUTPUT_SANDBOX, f"Output sandbox upload failed: {exc}"[:250]) from exc
            log.warning("job %s: output sandbox upload failed: %s", self.spec.job_id, exc)


def output_tail(path: Path, lines: int = PEEK_LINES) -> str | None:
    """The last lines of a file the payload is writing (read from its end only); None if empty."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - PEEK_BYTES))
            data = f.read()
    except OSError:
        return None
    text = data.decode(errors="replace").splitlines()
    if size > PEEK_BYTES and text:
        text = text[1:]  # the first line read may be cut
    return "\n".join(text[-lines:]) if text else None


def _resolve_executable(name: str, workdir: Path) -> Path | None:
    if os.path.isabs(name):
        path = Path(name)
        return path if path.exists() else None
    local = workdir / name
    if local.is_file():
        local.chmod(local.stat().st_mode | 0o755)
        return local
    shipped = SOFTWARE_AREA / name
    if shipped.is_file():
        return shipped
    found = shutil.which(name)
    return Path(found) if found else None


def _read_result(workdir: Path) -> dict[str, Any]:
    try:
        data = json.loads((workdir / RESULT_FILE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
