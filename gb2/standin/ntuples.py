"""Ntuple files shared by several VariablesToNtuple modules, written once after the event loop.

Like basf2, two VariablesToNtuple modules with the same ``fileName`` write two
trees into one file. The file is written after all modules terminated, and is
then recorded in the job information (type ``RootNtuple``).
"""

from __future__ import annotations

from gb2.standin.b2log import B2ERROR
from gb2.standin.eventfile import write_ntuple
from gb2.standin.jobinfo import JOB_INFO

_FILES: dict[str, dict[str, list[dict]]] = {}


def reset() -> None:
    _FILES.clear()


def register(filename: str, tree: str) -> list[dict]:
    """The row list of ``tree`` in ``filename``; a second module may not reuse a tree name."""
    trees = _FILES.setdefault(filename, {})
    if tree in trees:
        B2ERROR(f"Tree with the name '{tree}' already exists in the file '{filename}'")
    return trees.setdefault(tree, [])


def write_all() -> None:
    for filename, trees in _FILES.items():
        write_ntuple(filename, trees, metadata={"producer": "VariablesToNtuple"})
        JOB_INFO.add_root_ntuple(filename, {name: len(rows) for name, rows in trees.items()})
    _FILES.clear()
