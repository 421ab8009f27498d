"""One error hierarchy for the whole toolkit.

Every failure a user can meet is a :class:`Gb2Error` with a one-line message and
the process exit code the command layer should return, so commands never need
to inspect HTTP details and scripts get stable exit codes.
"""

from __future__ import annotations


class ExitCode:
    """Process exit codes shared by every ``gb2_*`` command (documented in the README)."""

    OK = 0
    FAILED = 1  # the operation ran but did not fully succeed (jobs failed, files missing...)
    USAGE = 2  # bad usage or bad input: nothing was done
    AUTH = 3  # not logged in, token expired or rejected
    FORBIDDEN = 4  # logged in, but not allowed to do this
    NOT_FOUND = 5  # the project, job, dataset or file does not exist
    UNREACHABLE = 6  # the server could not be reached (or kept failing)
    REFUSED = 7  # the server refused the request and said why
    INTERRUPTED = 130  # Ctrl-C


class Gb2Error(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class BadInput(Gb2Error):
    """The user's input is wrong; nothing was sent or written."""

    exit_code = ExitCode.USAGE


class AuthError(Gb2Error):
    """Authentication problem: the fix is to log in again."""

    exit_code = ExitCode.AUTH


class NotLoggedIn(AuthError):
    def __init__(self, message: str = "not logged in: run gb2_proxy_init first") -> None:
        super().__init__(message, status_code=401)


class TokenExpired(AuthError):
    def __init__(self, message: str = "your login has expired: run gb2_proxy_init again") -> None:
        super().__init__(message, status_code=401)


class Forbidden(Gb2Error):
    exit_code = ExitCode.FORBIDDEN


class NotFound(Gb2Error):
    exit_code = ExitCode.NOT_FOUND


class ServerUnreachable(Gb2Error):
    exit_code = ExitCode.UNREACHABLE


class RequestRefused(Gb2Error):
    """The server understood the request and refused it; the message carries its reason."""

    exit_code = ExitCode.REFUSED


class NotOffered(RequestRefused):
    """The server has no way to do this (e.g. DiracX 0.7 cannot read a job's JDL back)."""


class OperationFailed(Gb2Error):
    """The request went through but the outcome is a failure (e.g. some files not verified)."""

    exit_code = ExitCode.FAILED


class LocalWriteFailed(OperationFailed):
    """A local file could not be written whole (disk full, read-only, ...); nothing partial was kept."""


class UnsafePath(Gb2Error):
    """A name from a server would become a local path outside its destination: refused."""
