"""A failed job's log signature: what its logs say went wrong, with the details that differ
from job to job masked, so that jobs that failed the same way share one signature.

The defining lines are, in this order of preference: basf2's ``[FATAL]`` and ``[ERROR]``
lines and the last line of a Python traceback (the exception); else the line the job
wrapper adds when a job fails before its application ends; else the job's minor and
application status. Numbers, paths and URLs, hexadecimal ids and the job's own id are
masked (``<N>``, ``<PATH>``, ``<URL>``, ``<HEX>``, ``<JOB>``); the exit code of basf2 is
kept apart, as part of the signature.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

#: basf2's log levels that define a failure.
_LEVEL_RE = re.compile(r"^\[(FATAL|ERROR)\]\s*(.*)$")
_EXIT_RE = re.compile(r"exit status (-?\d+)")
_WRAPPER_PREFIX = "gb2 job wrapper: "
_TRACEBACK = "Traceback (most recent call last):"
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"]*[^\s'\",.;:)\]]", re.I), "<URL>"),
    (re.compile(r"(?<![\w.<>])(?:/[\w.+~@%=-]+)+/?"), "<PATH>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<HEX>"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.I), "<HEX>"),
    (re.compile(r"(?<=job)\d+", re.I), "<N>"),
    (re.compile(r"(?<![A-Za-z0-9<])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"), "<N>"),
)
MAX_LINES = 4  # defining lines kept per signature
MAX_LINE = 240


def mask(line: str, job_id: int | None = None) -> str:
    """The line with what differs between jobs replaced by placeholders."""
    text = line.strip()
    if job_id is not None:
        text = re.sub(rf"(?<!\d){int(job_id)}(?!\d)", "<JOB>", text)
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return re.sub(r"\s+", " ", text)[:MAX_LINE]


@dataclass
class LogDigest:
    """What one attempt's logs say about its failure, as read from its output sandbox
    (kept in the local cache, so a log is read once)."""

    exit_code: int | None = None
    errors: list[str] = field(default_factory=list)  # basf2 [FATAL]/[ERROR] lines, raw
    exception: str | None = None  # the last line of the last traceback
    wrapper: str | None = None  # the job wrapper's failure line
    cpu_time: int | None = None  # the JDL's CPUTime (seconds), from job.info
    reschedule: int | None = None  # the attempt's reschedule count, from job.info
    tail: list[str] = field(default_factory=list)  # the last lines of the most telling log

    def as_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "errors": self.errors, "exception": self.exception,
                "wrapper": self.wrapper, "cpu_time": self.cpu_time, "reschedule": self.reschedule,
                "tail": self.tail}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogDigest:
        return cls(**{k: data.get(k) for k in ("exit_code", "exception", "wrapper", "cpu_time", "reschedule")},
                   errors=list(data.get("errors") or []), tail=list(data.get("tail") or []))  # fmt: skip


def digest_logs(texts: dict[str, str], job_info: dict[str, Any] | None = None, tail_lines: int = 15) -> LogDigest:
    """Read the logs of one sandbox (file name -> text), most telling first."""
    digest = LogDigest()
    if job_info:
        digest.cpu_time = _int(job_info.get("CPUTime"))
        digest.reschedule = _int(job_info.get("RescheduleCounter"))
    for text in texts.values():
        lines = text.splitlines()
        if lines and not digest.tail:
            digest.tail = lines[-tail_lines:]
        for i, line in enumerate(lines):
            stripped = line.strip()
            level = _LEVEL_RE.match(stripped)
            if level and stripped not in digest.errors and len(digest.errors) < 20:
                digest.errors.append(stripped)
            elif stripped.startswith(_WRAPPER_PREFIX):
                digest.wrapper = stripped[len(_WRAPPER_PREFIX) :]
            elif stripped == _TRACEBACK:
                exception = _exception_after(lines, i + 1)
                if exception:
                    digest.exception = exception
            if digest.exit_code is None and "basf2" in stripped and "failed" in stripped:
                found = _EXIT_RE.search(stripped)
                if found:
                    digest.exit_code = int(found.group(1))
    return digest


def _exception_after(lines: list[str], start: int) -> str | None:
    """The exception line of a traceback: the first line after its indented frames."""
    for line in lines[start:]:
        if line and not line[0].isspace():
            return line.strip()
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


_ERRORISH = ("fail", "error", "exception", "not found", "cannot", "could not", "no replica", "exceeded", "killed")


@dataclass(frozen=True)
class Signature:
    """The masked defining lines and the exit code: the same for jobs that failed the same way."""

    exit_code: int | None
    lines: tuple[str, ...]
    source: str  # "log" (basf2's messages), "wrapper" (the job wrapper's line) or "records"

    @property
    def key(self) -> str:
        text = "\n".join([str(self.exit_code), *self.lines])
        return hashlib.sha256(text.encode()).hexdigest()


def signature(job: dict[str, Any], digest: LogDigest | None) -> tuple[Signature, list[str]]:
    """(the signature, the raw lines it was made from) of one failed job (a search row)."""
    job_id = _int(job.get("JobID"))
    application = str(job.get("ApplicationStatus") or "")
    exit_code = digest.exit_code if digest else None
    if exit_code is None:
        found = _EXIT_RE.search(application)
        exit_code = int(found.group(1)) if found else None
    raw: list[str] = []
    source = "records"
    if digest is not None:
        raw = [*digest.errors[:MAX_LINES - 1], *([digest.exception] if digest.exception else [])][:MAX_LINES]
        source = "log"
        if not raw and digest.wrapper:
            raw, source = [digest.wrapper], "wrapper"
    if not raw:
        source = "records"
        minor = str(job.get("MinorStatus") or "")
        raw = [minor] if minor else []
        if application and any(word in application.lower() for word in _ERRORISH):
            raw.append(application)
    masked = tuple(dict.fromkeys(mask(line, job_id) for line in raw))
    return Signature(exit_code, masked, source), raw
