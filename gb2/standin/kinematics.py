"""Particle table and four-vector helpers shared by the event synthesiser and the stand-in.

Only the few particles the synthetic events contain are known; names follow
basf2/EvtGen spelling (``pi+``, ``K_S0``, ``anti-D0``, ``J/psi``). Masses in GeV
are rounded PDG values: enough for invariant-mass peaks in the right place.
"""

from __future__ import annotations

import math
import random

#: pdg code -> (name, mass GeV, charge) for particles; antiparticles are derived.
_PARTICLES: dict[int, tuple[str, float, int]] = {
    11: ("e-", 0.000511, -1),
    12: ("nu_e", 0.0, 0),
    13: ("mu-", 0.105658, -1),
    14: ("nu_mu", 0.0, 0),
    15: ("tau-", 1.77686, -1),
    16: ("nu_tau", 0.0, 0),
    22: ("gamma", 0.0, 0),
    111: ("pi0", 0.134977, 0),
    211: ("pi+", 0.139570, 1),
    310: ("K_S0", 0.497611, 0),
    321: ("K+", 0.493677, 1),
    411: ("D+", 1.86966, 1),
    421: ("D0", 1.86484, 0),
    443: ("J/psi", 3.096900, 0),
    511: ("B0", 5.27966, 0),
    521: ("B+", 5.27934, 1),
    2212: ("p+", 0.938272, 1),
    10022: ("vpho", 10.5794, 0),
    300553: ("Upsilon(4S)", 10.5794, 0),
}
#: Self-conjugate particles: their negative code does not exist.
_SELF_CONJUGATE = {22, 111, 310, 443, 10022, 300553}


def _anti_name(name: str) -> str:
    if name.endswith("+"):
        return name[:-1] + "-"
    if name.endswith("-"):
        return name[:-1] + "+"
    return "anti-" + name


def _build_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for code, (name, _, _) in _PARTICLES.items():
        names[name] = code
        if code not in _SELF_CONJUGATE:
            anti = "anti-p-" if code == 2212 else _anti_name(name)
            names[anti] = -code
    return names


_NAME_TO_PDG = _build_names()
_PDG_TO_NAME = {code: name for name, code in _NAME_TO_PDG.items()}

#: Belle II beams (7 GeV e- on 4 GeV e+): centre-of-mass energy and lab boost along z.
SQRT_S = 2.0 * math.sqrt(7.0 * 4.0)
BETA_Z = 3.0 / 11.0

#: Stable, charged particles that leave tracks; the keys of a track's ``pid`` dict.
PID_HYPOTHESES: dict[str, int] = {"e": 11, "mu": 13, "pi": 211, "K": 321, "p": 2212}


def known(code: int) -> bool:
    return code in _PDG_TO_NAME


def mass(code: int) -> float:
    return _PARTICLES[abs(code)][1]


def charge(code: int) -> int:
    q = _PARTICLES[abs(code)][2]
    return -q if code < 0 else q


def name(code: int) -> str:
    return _PDG_TO_NAME[code]


def pdg(particle_name: str) -> int:
    """The pdg code of a basf2 particle name; KeyError if gb2 does not know it."""
    return _NAME_TO_PDG[particle_name]


def conjugate_name(particle_name: str) -> str:
    code = pdg(particle_name)
    return particle_name if abs(code) in _SELF_CONJUGATE else name(-code)


def all_names() -> list[str]:
    return sorted(_NAME_TO_PDG)


# --- four-vectors: tuples (E, px, py, pz) -----------------------------------------

FourVector = tuple[float, float, float, float]


def four_vector(m: float, px: float, py: float, pz: float) -> FourVector:
    return (math.sqrt(m * m + px * px + py * py + pz * pz), px, py, pz)


def add(*vectors: FourVector) -> FourVector:
    return (
        sum(v[0] for v in vectors),
        sum(v[1] for v in vectors),
        sum(v[2] for v in vectors),
        sum(v[3] for v in vectors),
    )


def inv_mass(v: FourVector) -> float:
    m2 = v[0] ** 2 - v[1] ** 2 - v[2] ** 2 - v[3] ** 2
    return math.sqrt(m2) if m2 > 0 else -math.sqrt(-m2)


def boost(v: FourVector, bx: float, by: float, bz: float) -> FourVector:
    """Lorentz-boost ``v`` by velocity (bx, by, bz) (units of c)."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return v
    gamma = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * v[1] + by * v[2] + bz * v[3]
    g2 = (gamma - 1.0) / b2
    e = gamma * (v[0] + bp)
    k = g2 * bp + gamma * v[0]
    return (e, v[1] + k * bx, v[2] + k * by, v[3] + k * bz)


def to_cms(v: FourVector) -> FourVector:
    """A lab-frame four-vector in the e+e- centre-of-mass frame."""
    return boost(v, 0.0, 0.0, -BETA_Z)


def velocity(v: FourVector) -> tuple[float, float, float]:
    return (v[1] / v[0], v[2] / v[0], v[3] / v[0])


def isotropic(rng: random.Random) -> tuple[float, float, float]:
    """A random unit vector."""
    cos_t = rng.uniform(-1.0, 1.0)
    phi = rng.uniform(0.0, 2.0 * math.pi)
    sin_t = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
    return (sin_t * math.cos(phi), sin_t * math.sin(phi), cos_t)


def two_body(m0: float, m1: float, m2: float, rng: random.Random) -> tuple[FourVector, FourVector]:
    """An isotropic two-body decay of a particle of mass ``m0`` at rest."""
    if m1 + m2 > m0:
        raise ValueError(f"two-body decay {m0} -> {m1} + {m2} is kinematically forbidden")
    term = (m0 * m0 - (m1 + m2) ** 2) * (m0 * m0 - (m1 - m2) ** 2)
    p = math.sqrt(max(0.0, term)) / (2.0 * m0)
    ux, uy, uz = isotropic(rng)
    return (
        four_vector(m1, p * ux, p * uy, p * uz),
        four_vector(m2, -p * ux, -p * uy, -p * uz),
    )


def n_body(m0: float, masses: list[float], rng: random.Random) -> list[FourVector]:
    """Split ``m0`` at rest into particles of ``masses`` by successive two-body steps.

    Not flat phase space, but four-momentum is conserved exactly, which is what
    invariant-mass reconstruction needs.
    """
    if len(masses) == 1:
        return [(m0, 0.0, 0.0, 0.0)]
    if len(masses) == 2:
        return list(two_body(m0, masses[0], masses[1], rng))
    rest_min = sum(masses[1:])
    room = m0 - masses[0] - rest_min
    if room < 0:
        raise ValueError(f"{m0} GeV cannot decay into masses {masses}")
    m_rest = rest_min + room * rng.random()
    first, rest = two_body(m0, masses[0], m_rest, rng)
    beta = velocity(rest)
    return [first] + [boost(v, *beta) for v in n_body(m_rest, masses[1:], rng)]
