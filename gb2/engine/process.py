"""Launching a job payload under the limits a grid worker node imposes.

Each payload runs in its own session and process group (so a kill reaches every
process it started), dies with the thread that started it (``PR_SET_PDEATHSIG``),
and is registered with the engine's :class:`~gb2.engine.reaper.Reaper`, which
ends the whole group if the server dies, even by ``kill -9`` (the processes the
payload started have no death signal of their own): no orphan keeps running while
its job is reported Stalled. It gets the kernel's CPU-time limit from the JDL's
``CPUTime``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gb2.engine.reaper import Reaper

_PR_SET_PDEATHSIG = 1


def _limits(cpu_seconds: int | None) -> None:
    """Runs in the child between fork and exec."""
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


@dataclass
class Outcome:
    returncode: int
    cpu_seconds: float
    wall_seconds: float
    cpu_limit_hit: bool
    killed: bool


class Payload:
    """A running payload process group."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        stdout: Path,
        stderr: Path,
        cpu_seconds: int | None,
        reaper: Reaper | None = None,
    ) -> None:
        self.started = time.monotonic()
        self.reaper = reaper
        self.cpu_seconds = cpu_seconds
        self.killed = False
        self._outcome: Outcome | None = None
        with open(stdout, "ab") as out, open(stderr, "ab") as err:
            self.proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err if stderr != stdout else subprocess.STDOUT,
                preexec_fn=lambda: _limits(cpu_seconds),
                close_fds=True,
            )
        if reaper is not None:
            reaper.add(self.proc.pid)  # its own group: the pgid is its pid

    @property
    def pid(self) -> int:
        return self.proc.pid

    def terminate(self, grace: float = 5.0) -> None:
        """SIGTERM to the whole group, SIGKILL after ``grace`` seconds."""
        self.killed = True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if self.poll() is not None:
                    return
                time.sleep(0.05)

    def poll(self) -> Outcome | None:
        """Reap the payload if it has ended (never blocks)."""
        if self._outcome is not None:
            return self._outcome
        # wait4 gives the CPU time of the payload and of the children it waited for;
        # Popen.poll() would reap the process and lose that, so it is never called.
        try:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status, usage = self.proc.pid, 0, None
        if pid == 0:
            return None
        rc = os.waitstatus_to_exitcode(status)
        self.proc.returncode = rc
        cpu = (usage.ru_utime + usage.ru_stime) if usage is not None else 0.0
        limit_hit = (
            rc in (-signal.SIGXCPU, -signal.SIGKILL)
            and not self.killed
            and bool(self.cpu_seconds and cpu >= self.cpu_seconds - 1)
        )
        try:  # kill whatever the payload left behind in its session
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.reaper is not None:
            self.reaper.discard(self.proc.pid)
        self._outcome = Outcome(rc, cpu, time.monotonic() - self.started, limit_hit, self.killed)
        return self._outcome

    def wait(self, timeout: float | None = None, step: float = 0.05) -> Outcome | None:
        """Block until the payload ends; None if it is still running after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (outcome := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(step)
        return outcome

    def usage(self) -> dict[str, float]:
        """Heartbeat figures from /proc: resident memory (MB) and CPU seconds so far."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            cpu = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / ticks
            rss_mb = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 1e6
            return {"CPUConsumed": round(cpu, 2), "MemoryUsed": round(rss_mb, 1)}
        except (OSError, IndexError, ValueError):
            return {}
