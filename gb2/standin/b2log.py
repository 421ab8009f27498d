"""basf2-style log messages (``[INFO] ...`` on stdout) with basf2's counting and abort rules.

basf2 prints log messages on standard output, counts them per level, refuses to
start event processing once an ERROR was logged, and exits with status 1 on a
FATAL message. The stand-in does the same; a FATAL message raises
:class:`Basf2Fatal` (a ``SystemExit``) so the command line can still write the
job-information file before the process ends.
"""

from __future__ import annotations

import enum
import sys
from collections import Counter


class LogLevel(enum.IntEnum):
    """basf2's log levels, in basf2's order (``default`` means: inherit)."""

    DEBUG = 0
    INFO = 1
    RESULT = 2
    WARNING = 3
    ERROR = 4
    FATAL = 5
    default = 6


class Basf2Fatal(SystemExit):
    """A FATAL message ends the job with exit status 1, as basf2's ``exit(1)`` does."""

    def __init__(self, message: str) -> None:
        super().__init__(1)
        self.message = message


class Logger:
    """Global log configuration and message counters of one stand-in run."""

    def __init__(self) -> None:
        self.level = LogLevel.INFO
        #: Set by ``-l``: then the steering file's ``set_log_level`` is ignored.
        self.level_override: LogLevel | None = None
        self.counts: Counter[LogLevel] = Counter()
        #: Name of the module whose method is running (shown on warnings and errors).
        self.module: str | None = None

    def set_level(self, level: LogLevel, *, override: bool = False) -> None:
        if override:
            self.level_override = level
        self.level = self.level_override if self.level_override is not None else level

    def log(self, level: LogLevel, message: object) -> None:
        """Print and count ``message`` if ``level`` is enabled; FATAL always ends the job."""
        text = str(message)
        if level >= self.level or level == LogLevel.FATAL:
            self.counts[level] += 1
            suffix = (
                f"  {{ module: {self.module} }}"
                if self.module and level >= LogLevel.WARNING
                else ""
            )
            print(f"[{level.name}] {text}{suffix}", file=sys.stdout, flush=True)
        if level == LogLevel.FATAL:
            raise Basf2Fatal(text)

    def count(self, level: LogLevel) -> int:
        return self.counts[level]


LOG = Logger()


def _join(args: tuple[object, ...]) -> str:
    return "".join(str(a) for a in args)


def B2DEBUG(level: int, *message: object) -> None:
    LOG.log(LogLevel.DEBUG, _join(message))


def B2INFO(*message: object) -> None:
    LOG.log(LogLevel.INFO, _join(message))


def B2RESULT(*message: object) -> None:
    LOG.log(LogLevel.RESULT, _join(message))


def B2WARNING(*message: object) -> None:
    LOG.log(LogLevel.WARNING, _join(message))


def B2ERROR(*message: object) -> None:
    LOG.log(LogLevel.ERROR, _join(message))


def B2FATAL(*message: object) -> None:
    LOG.log(LogLevel.FATAL, _join(message))
