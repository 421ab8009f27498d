"""Confirmation prompts, gbasf2 style ("Please enter Y or N:").

A command that would ask on a non-interactive stdin refuses instead of hanging
or guessing: scripts say ``--force``.
"""

from __future__ import annotations

import sys

from gb2.errors import BadInput


def confirm(question: str, *, force: bool, what: str = "continue") -> bool:
    """True to go ahead. ``force`` skips the question."""
    if force:
        return True
    if not sys.stdin.isatty():
        raise BadInput(f"stdin is not a terminal, so nobody can answer Y/N: pass --force to {what}")
    print(question, file=sys.stderr, flush=True)
    while True:
        try:
            answer = input("Please enter Y or N: ").strip().lower()
        except EOFError:
            return False
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
