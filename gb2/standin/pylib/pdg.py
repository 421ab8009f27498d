"""``pdg`` (stand-in): particle names and codes for the particles gb2's stand-in knows."""

from __future__ import annotations

from gb2.standin import kinematics as _kin


def from_name(name: str) -> int:
    """The PDG code of a particle name, e.g. ``from_name('pi+') == 211``."""
    return _kin.pdg(name)


def to_name(pdg: int) -> str:
    return _kin.name(pdg)


def conjugate(name: str) -> str:
    """The charge-conjugate name (``'pi+'`` -> ``'pi-'``; self-conjugate names unchanged)."""
    return _kin.conjugate_name(name)
