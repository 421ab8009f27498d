"""The analysis variables the stand-in knows (a small subset of basf2's VariableManager).

Particle variables: ``M``/``InvM``, ``dM``, ``p``, ``pt``, ``px``, ``py``, ``pz``, ``E``,
``charge``, ``theta``, ``cosTheta``, ``phi``, ``PDG``, ``nDaughters``, ``Mbc``,
``deltaE``, ``isSignal``, ``mcPDG``, ``electronID``, ``muonID``, ``pionID``,
``kaonID``, ``protonID``. Event variables (usable everywhere): ``nTracks``,
``nMCParticles``, ``isMC``, ``expNum``, ``runNum``, ``evtNum``. Meta-variables are
handled by :mod:`gb2.standin.cuts`. Like basf2, a variable without a value (MC
truth on data, PID of a composite) is NaN. Aliases (``variables.addAlias``) name
expressions and can be used wherever a variable can.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from gb2.standin import kinematics as kin
from gb2.standin.datastore import EventStore, Particle

NAN = float("nan")

ParticleVar = Callable[[Particle, EventStore], float]
EventVar = Callable[[EventStore], float]


def _theta(p: Particle) -> float:
    return math.atan2(math.hypot(p.p4[1], p.p4[2]), p.p4[3])


def _pdg_mass(p: Particle) -> float:
    return kin.mass(p.pdg)


def _mbc(p: Particle) -> float:
    cms = kin.to_cms(p.p4)
    m2 = (kin.SQRT_S / 2) ** 2 - (cms[1] ** 2 + cms[2] ** 2 + cms[3] ** 2)
    return math.sqrt(m2) if m2 > 0 else NAN


def _delta_e(p: Particle) -> float:
    return kin.to_cms(p.p4)[0] - kin.SQRT_S / 2


def _pid(hypothesis: str) -> ParticleVar:
    return lambda p, s: p.pid.get(hypothesis, NAN) if p.pid else NAN


def matched_mc(p: Particle) -> int | None:
    """The MC particle this candidate is matched to (after MCMatcherParticles), else None."""
    return p.mc_index if p.mc_matched else None


def is_signal(p: Particle, store: EventStore) -> float:
    """1 if the candidate and all its daughters are correctly matched, 0 if not, NaN without truth."""
    if not store.is_mc or not p.mc_matched:
        return NAN
    return 1.0 if _signal(p, store.mcparticles()) else 0.0


def _signal(p: Particle, mc: list[dict]) -> bool:
    if p.mc_index is None or mc[p.mc_index]["pdg"] != p.pdg:
        return False
    if not p.daughters:
        return True
    children = [i for i, m in enumerate(mc) if m["mother"] == p.mc_index]
    return len(children) == len(p.daughters) and all(_signal(d, mc) for d in p.daughters)


def _mc_pdg(p: Particle, store: EventStore) -> float:
    index = matched_mc(p)
    return float(store.mcparticles()[index]["pdg"]) if index is not None and store.is_mc else NAN


PARTICLE_VARIABLES: dict[str, ParticleVar] = {
    "M": lambda p, s: p.mass,
    "InvM": lambda p, s: p.mass,
    "dM": lambda p, s: p.mass - _pdg_mass(p),
    "p": lambda p, s: p.p,
    "pt": lambda p, s: math.hypot(p.p4[1], p.p4[2]),
    "px": lambda p, s: p.p4[1],
    "py": lambda p, s: p.p4[2],
    "pz": lambda p, s: p.p4[3],
    "E": lambda p, s: p.p4[0],
    "charge": lambda p, s: float(p.charge),
    "theta": lambda p, s: _theta(p),
    "cosTheta": lambda p, s: math.cos(_theta(p)),
    "phi": lambda p, s: math.atan2(p.p4[2], p.p4[1]),
    "PDG": lambda p, s: float(p.pdg),
    "nDaughters": lambda p, s: float(len(p.daughters)),
    "Mbc": lambda p, s: _mbc(p),
    "deltaE": lambda p, s: _delta_e(p),
    "isSignal": is_signal,
    "mcPDG": _mc_pdg,
    "electronID": _pid("e"),
    "muonID": _pid("mu"),
    "pionID": _pid("pi"),
    "kaonID": _pid("K"),
    "protonID": _pid("p"),
}

EVENT_VARIABLES: dict[str, EventVar] = {
    "nTracks": lambda s: float(len(s.event.get("tracks", []))),
    "nMCParticles": lambda s: float(len(s.mcparticles())),
    "isMC": lambda s: 1.0 if s.is_mc else 0.0,
    "expNum": lambda s: float(s.event.get("experiment", 0)),
    "runNum": lambda s: float(s.event.get("run", 0)),
    "evtNum": lambda s: float(s.event.get("event", 0)),
}


#: Aliases of this run (``variables.addAlias``): name -> the expression it stands for.
ALIASES: dict[str, str] = {}

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def add_alias(name: str, expression: str) -> bool:
    """Define ``name`` as another name for ``expression``; False (and an ERROR) if it cannot be.

    As in basf2: an alias needs a plain name that is not a variable; defining it again
    replaces it (with a WARNING); it is resolved when a cut or ntuple uses it."""
    from gb2.standin.b2log import B2ERROR, B2WARNING

    if not _NAME_RE.match(name):
        B2ERROR(f"Alias {name!r} contains forbidden characters")
        return False
    if name in PARTICLE_VARIABLES or name in EVENT_VARIABLES:
        B2ERROR(f"Variable with name {name!r} already exists, cannot add it as an alias")
        return False
    if name == expression:
        B2ERROR(f"Alias {name!r} cannot refer to itself")
        return False
    if name in ALIASES and ALIASES[name] != expression:
        B2WARNING(f"An alias with the name {name!r} exists and is set to {ALIASES[name]!r}, "
                  f"setting it to {expression!r}")
    ALIASES[name] = expression
    return True


def known_names() -> list[str]:
    return sorted(PARTICLE_VARIABLES) + sorted(EVENT_VARIABLES) + sorted(ALIASES)
