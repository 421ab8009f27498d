"""The per-event data store: the event record, particle lists, and reconstructed particles.

basf2 modules talk through a global DataStore; the stand-in's modules do the
same through :func:`current`, which the event loop sets for every event (and
swaps for a copy inside an independent path).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from gb2.standin import kinematics as kin


@dataclass(eq=False)
class Particle:
    """A candidate: a final-state particle from a track/photon, or a combination of daughters."""

    pdg: int
    p4: kin.FourVector
    charge: int
    daughters: tuple[Particle, ...] = ()
    #: Detector objects used, e.g. {("track", 3), ("photon", 0)}: no object may be used twice.
    sources: frozenset[tuple[str, int]] = frozenset()
    #: Index into the event's ``mcparticles`` (tracks/photons carry it in MC files).
    mc_index: int | None = None
    #: Set by MCMatcherParticles; ``isSignal`` is NaN until then.
    mc_matched: bool = False
    pid: dict[str, float] = field(default_factory=dict)

    @property
    def mass(self) -> float:
        return kin.inv_mass(self.p4)

    @property
    def p(self) -> float:
        return math.sqrt(self.p4[1] ** 2 + self.p4[2] ** 2 + self.p4[3] ** 2)

    def final_state(self) -> list[Particle]:
        if not self.daughters:
            return [self]
        return [fsp for d in self.daughters for fsp in d.final_state()]


class EventStore:
    """Everything one event carries while it runs through the path."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.lists: dict[str, list[Particle]] = {}

    @property
    def is_mc(self) -> bool:
        return "mcparticles" in self.event

    def mcparticles(self) -> list[dict[str, Any]]:
        return self.event.get("mcparticles", [])

    def get_list(self, name: str) -> list[Particle] | None:
        return self.lists.get(name)

    def copy(self) -> EventStore:
        """An independent copy (what an independent path works on)."""
        other = EventStore(copy.deepcopy(self.event))
        other.lists = {k: list(v) for k, v in self.lists.items()}
        return other


_STACK: list[EventStore] = []


def current() -> EventStore:
    """The store of the event being processed."""
    if not _STACK:
        raise RuntimeError("no event is being processed")
    return _STACK[-1]


def push(store: EventStore) -> None:
    _STACK.append(store)


def pop() -> None:
    _STACK.pop()
