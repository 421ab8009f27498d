"""Confirmation prompts, gbasf2 style ("Please enter Y or N:").

A command that would ask on a non-interactive stdin refuses instead of hanging
or guessing: scripts say ``--force`` (exit 2). An answer of No ends the command
with exit 1 and one line on stderr saying that nothing was done.
"""

from __future__ import annotations

import sys

from gb2.errors import BadInput, OperationFailed


class Cancelled(OperationFailed):
    """The user answered No: nothing was done."""


def confirm(question: str, *, force: bool, what: str = "continue", nothing: str = "nothing was done") -> bool:
    """True to go ahead (``force`` skips the question); :class:`Cancelled` if the answer is No."""
    if force:
        return True
    if not sys.stdin.isatty():
        raise BadInput(f"stdin is not a terminal, so nobody can answer Y/N: pass --force to {what}")
    print(question, file=sys.stderr, flush=True)
    while True:
        try:
            answer = input("Please enter Y or N: ").strip().lower()
        except EOFError:
            answer = "n"
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            raise Cancelled(f"cancelled: {nothing}")
