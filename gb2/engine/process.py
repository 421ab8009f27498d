"""Launching a job payload under the limits a grid worker node imposes.

Each payload runs in its own session and process group (so a kill reaches every
process it started), dies with the thread that started it (``PR_SET_PDEATHSIG``),
and is registered with the engine's :class:`~gb2.engine.reaper.Reaper`, which
ends the whole group if the server dies, even by ``kill -9`` (the processes the
payload started have no death signal of their own): no orphan keeps running while
its job is reported Stalled. It gets the kernel's CPU-time limit from the JDL's
``CPUTime``.

The death signal and the CPU limit are set by util-linux's ``setpriv`` and ``prlimit``,
which then exec the payload (same process): Python sets up the child without a
``preexec_fn`` then, so it is started with vfork, in about a millisecond, where forking
the whole server for a ``preexec_fn`` costs some 20 ms per job. Without those tools
(or a ``setpriv`` too old for ``--pdeathsig``) the ``preexec_fn`` does the same.
The end of a payload is noticed at once (a pidfd), not at the next poll.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import select
import shutil
import signal
import subprocess
import time
import weakref
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


@functools.cache
def _launcher() -> tuple[str, str] | None:
    """(setpriv, prlimit) when both are here and setpriv knows ``--pdeathsig``."""
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    if not (setpriv and prlimit):
        return None
    try:
        usage = subprocess.run([setpriv, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return (setpriv, prlimit) if "--pdeathsig" in usage else None


def _launch_argv(argv: Sequence[str], cpu_seconds: int | None, path: str | None) -> list[str] | None:
    """``argv`` behind setpriv and prlimit (None: use the preexec_fn). The payload is checked
    first, so that one that cannot start fails here as it would without them."""
    tools = _launcher()
    if tools is None:
        return None
    exe = argv[0] if os.sep in argv[0] else shutil.which(argv[0], path=path)
    if exe is None or not os.path.isfile(exe):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", argv[0])
    if not os.access(exe, os.X_OK):
        raise PermissionError(errno.EACCES, "Permission denied", argv[0])
    setpriv, prlimit = tools
    limit = [prlimit, f"--cpu={cpu_seconds}:{cpu_seconds + 5}", "--"] if cpu_seconds else []
    return [setpriv, "--pdeathsig", "KILL", "--", *limit, *argv]


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
        launch = _launch_argv(argv, cpu_seconds, env.get("PATH"))
        with open(stdout, "ab") as out, open(stderr, "ab") as err:
            self.proc = subprocess.Popen(
                launch or list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err if stderr != stdout else subprocess.STDOUT,
                preexec_fn=None if launch else lambda: _limits(cpu_seconds),
                start_new_session=bool(launch),
                close_fds=True,
            )
        if reaper is not None:
            reaper.add(self.proc.pid)  # its own group: the pgid is its pid
        try:  # readable once the process has ended: waiting wakes at once (Linux 5.3+)
            self._pidfd: int | None = os.pidfd_open(self.proc.pid)
            weakref.finalize(self, os.close, self._pidfd)
        except (AttributeError, OSError):
            self._pidfd = None

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
        """Block until the payload ends; None if it is still running after ``timeout``
        (``step``: how often to look where the end cannot be waited for)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (outcome := self.poll()) is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            if self._pidfd is not None:
                try:
                    select.select([self._pidfd], [], [], left)
                except (OSError, ValueError):
                    self._pidfd = None
            else:
                time.sleep(step if left is None else min(step, left))
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
