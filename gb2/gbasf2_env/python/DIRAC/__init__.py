"""gb2's stand-in for the part of DIRAC's Python API that b2luigi uses. It is NOT DIRAC.

Only ``setup.sh`` of ``gb2.gbasf2_env`` puts this folder on the Python path; the
calls are implemented on gb2 in :mod:`gb2.gbasf2_env.api`.
"""

from __future__ import annotations

import sys

from gb2.gbasf2_env.api import S_ERROR, S_OK

__all__ = ["S_ERROR", "S_OK", "gLogger"]

_LEVELS = ("DEBUG", "VERBOSE", "INFO", "NOTICE", "WARN", "ERROR", "ALWAYS", "FATAL")


class _Logger:
    """DIRAC's ``gLogger``: messages on stderr from its level up (b2luigi sets FATAL)."""

    def __init__(self) -> None:
        self._level = "NOTICE"

    def setLevel(self, level: str) -> bool:  # noqa: N802 - DIRAC's names
        name = str(level).upper()
        if name in _LEVELS:
            self._level = name
        return name in _LEVELS

    def getLevel(self) -> str:  # noqa: N802
        return self._level

    def _log(self, level: str, message: str, detail: str = "") -> None:
        if _LEVELS.index(level) >= _LEVELS.index(self._level):
            print(f"{level}: {message} {detail}".rstrip(), file=sys.stderr)

    def info(self, message: str, detail: str = "") -> None:
        self._log("INFO", message, detail)

    def notice(self, message: str, detail: str = "") -> None:
        self._log("NOTICE", message, detail)

    def warn(self, message: str, detail: str = "") -> None:
        self._log("WARN", message, detail)

    def error(self, message: str, detail: str = "") -> None:
        self._log("ERROR", message, detail)

    def fatal(self, message: str, detail: str = "") -> None:
        self._log("FATAL", message, detail)


gLogger = _Logger()
