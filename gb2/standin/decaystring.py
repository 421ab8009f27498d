"""The subset of basf2 decay strings the stand-in understands.

Supported: ``name[:label]`` for a particle list, and ``mother[:label] -> d1[:label]
d2[:label] ...`` for one decay step, with particle names from
:mod:`gb2.standin.kinematics` (``pi+``, ``K_S0``, ``anti-D0``, ``J/psi`` ...).
Not supported, and refused with :class:`DecayStringError`: selection markers
(``^``), sub-decays in brackets, ``@`` unspecified particles, ``=direct=>``-style
arrows, ``...``/``?`` inclusive markers and decay-mode tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gb2.standin import kinematics as kin

_UNSUPPORTED = [
    ("^", "selection markers '^'"),
    ("[", "sub-decays in brackets"),
    ("@", "unspecified-particle markers '@'"),
    ("=", "special arrows like '=direct=>'"),
    ("...", "inclusive markers '...'"),
    ("?", "optional markers '?'"),
    ("(", "decay-mode tags"),
]
_ITEM_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_*/'+\-()]*?)(?::([A-Za-z0-9_]+))?$")


class DecayStringError(ValueError):
    """A decay string outside the supported subset, or with unknown particles."""


@dataclass(frozen=True)
class ListName:
    """A particle list: particle name plus optional label (``pi+:good``)."""

    particle: str
    label: str = ""

    @property
    def pdg(self) -> int:
        return kin.pdg(self.particle)

    @property
    def full(self) -> str:
        return f"{self.particle}:{self.label}" if self.label else self.particle

    def conjugate(self) -> ListName:
        return ListName(kin.conjugate_name(self.particle), self.label)

    @property
    def self_conjugate(self) -> bool:
        return kin.conjugate_name(self.particle) == self.particle

    def __str__(self) -> str:
        return self.full


@dataclass(frozen=True)
class DecayString:
    mother: ListName
    daughters: tuple[ListName, ...] = ()

    def conjugate(self) -> DecayString:
        return DecayString(self.mother.conjugate(), tuple(d.conjugate() for d in self.daughters))


def parse_list_name(text: str) -> ListName:
    """``'pi+:all'`` -> ListName('pi+', 'all'); unknown particles raise DecayStringError."""
    item = text.strip()
    match = _ITEM_RE.match(item)
    if not match:
        raise DecayStringError(f"invalid particle list name {text!r}")
    name, label = match.group(1), match.group(2) or ""
    try:
        kin.pdg(name)
    except KeyError:
        raise DecayStringError(
            f"unknown particle {name!r} in {text!r}; gb2's basf2 stand-in knows: "
            + ", ".join(kin.all_names())
        ) from None
    return ListName(name, label)


def parse(text: str) -> DecayString:
    """Parse a decay string of the supported subset."""
    stripped = text.strip()
    if not stripped:
        raise DecayStringError("empty decay string")
    for token, what in _UNSUPPORTED:
        # "(" is allowed inside names such as Upsilon(4S); decay-mode tags come after a space
        if token == "(" and not re.search(r"\s\(|^\(", stripped):
            continue
        if token in stripped:
            raise DecayStringError(
                f"decay string {text!r} uses {what}, which gb2's basf2 stand-in does not support "
                "(supported: 'mother:label -> daughter:label ...')"
            )
    if "->" not in stripped:
        return DecayString(parse_list_name(stripped))
    head, _, tail = stripped.partition("->")
    if "->" in tail:
        raise DecayStringError(
            f"decay string {text!r} has more than one '->' (sub-decays are not supported)"
        )
    daughters = tuple(parse_list_name(d) for d in tail.split())
    if not daughters:
        raise DecayStringError(f"decay string {text!r} has no daughters after '->'")
    return DecayString(parse_list_name(head), daughters)
