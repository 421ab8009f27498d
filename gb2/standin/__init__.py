"""gb2's basf2 stand-in: runs basf2 steering files when real basf2 is not installed.

It is not basf2 and says so (a one-line banner on stderr). It implements the
basf2 command line used by gb2's job wrapper (``python -m gb2.standin``, see
:mod:`gb2.standin.cli`) and the part of the basf2 Python API common steering
files use (``gb2/standin/pylib``: ``basf2`` with ``basf2.pickle_path``,
``modularAnalysis``, ``variables``, ``mdst``, ``udst``, ``generators``, ``simulation``,
``reconstruction``, ``pdg``). It reads
and writes gb2's own event files (:mod:`gb2.standin.eventfile`), not ROOT files.
``README.md`` next to this file describes the contract.

Importing this package is cheap: it imports nothing beyond the standard library.
"""

from __future__ import annotations

import sys

STANDIN_VERSION = "0.1"


def command() -> list[str]:
    """The command the engine runs in place of ``basf2``."""
    return [sys.executable, "-m", "gb2.standin"]
