"""Deterministic, physics-like synthetic mdst/udst files for gb2's sample catalogue.

The files are stand-in event files (see :mod:`gb2.standin.eventfile`), not ROOT.
Each event is an e+e- collision at the Upsilon(4S) energy, boosted to the lab
like Belle II's 7 GeV x 4 GeV beams, generated from a small decay table with
four-momentum conserved, then "reconstructed": charged stable particles inside
the tracking acceptance become tracks (smeared momentum, a PID probability per
hypothesis), photons inside the calorimeter acceptance become photons.

Event record::

    {"experiment": 1003, "run": 0, "event": 1,
     "tracks":  [{"charge": 1, "px": .., "py": .., "pz": ..,
                  "pid": {"e": .., "mu": .., "pi": .., "K": .., "p": ..}, "mc": 7}],
     "photons": [{"E": .., "px": .., "py": .., "pz": .., "mc": 9}],
     "mcparticles": [{"pdg": 300553, "mother": -1, "px": .., "py": .., "pz": .., "E": ..}]}

``mc`` (index into ``mcparticles``) and ``mcparticles`` exist in MC files only;
data files (``event_type="data"`` or ``is_mc=False``) carry no truth. Event
types: ``mixed`` (B0 anti-B0), ``charged`` (B+ B-), ``uubar``, ``ddbar``,
``ssbar``, ``ccbar``, ``taupair``, ``data`` (a cross-section weighted mixture),
or a signal event-type number (all digits, e.g. ``1111540100``): every signal
number gets the same template, B0 anti-B0 with one B forced to
J/psi(-> l+ l-) K_S0(-> pi+ pi-) and the other decaying generically. The same
arguments always give byte-identical files.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gb2.standin import kinematics as kin
from gb2.standin.eventfile import write_event_file
from gb2.standin.filemeta import event_range, file_metadata

GENERIC_TYPES = ("mixed", "charged", "uubar", "ddbar", "ssbar", "ccbar", "taupair")
#: Rough e+e- cross sections at the Upsilon(4S) in nb: the mixture of a "data" file.
_DATA_MIXTURE = {
    "mixed": 0.55,
    "charged": 0.55,
    "uubar": 1.61,
    "ddbar": 0.40,
    "ssbar": 0.38,
    "ccbar": 1.30,
    "taupair": 0.92,
}
_BETA_Z = kin.BETA_Z
_SQRT_S = kin.SQRT_S
#: Tracking and calorimeter polar acceptance (17 to 150 degrees), as cos(theta).
_COS_MIN, _COS_MAX = math.cos(math.radians(150.0)), math.cos(math.radians(17.0))

Decays = list[tuple[float, list[int]]]
#: Decay table (weights need not sum to 1; not real branching fractions).
_DECAYS: dict[int, Decays] = {
    511: [
        (0.20, [-411, 211]),
        (0.25, [-411, 211, 111]),
        (0.15, [-421, 211, -211]),
        (0.10, [-421, 211, -211, 111]),
        (0.10, [-411, 211, 211, -211]),
        (0.10, [-411, -11, 12]),
        (0.08, [-411, -13, 14]),
        (0.02, [443, 310]),
    ],
    521: [
        (0.30, [-421, 211]),
        (0.20, [-421, 211, 111]),
        (0.20, [-421, 211, 211, -211]),
        (0.10, [-411, 211, 211]),
        (0.08, [-421, -11, 12]),
        (0.08, [-421, -13, 14]),
        (0.02, [443, 321]),
        (0.02, [-421, 321]),
    ],
    421: [
        (0.10, [-321, 211]),
        (0.30, [-321, 211, 111]),
        (0.20, [-321, 211, 211, -211]),
        (0.10, [310, 211, -211]),
        (0.10, [310, 111]),
        (0.10, [-211, 211, 111]),
        (0.10, [-321, 321]),
    ],
    411: [
        (0.30, [-321, 211, 211]),
        (0.20, [310, 211]),
        (0.20, [310, 211, 111]),
        (0.30, [-321, 211, 211, 111]),
    ],
    443: [(0.06, [11, -11]), (0.06, [13, -13]), (0.88, [211, -211, 111])],
    310: [(0.69, [211, -211]), (0.31, [111, 111])],
    111: [(1.0, [22, 22])],
    15: [
        (0.18, [11, -12, 16]),
        (0.17, [13, -14, 16]),
        (0.11, [-211, 16]),
        (0.26, [-211, 111, 16]),
        (0.10, [-211, -211, 211, 16]),
        (0.18, [-211, 111, 111, 16]),
    ],
}
_STABLE = {11, 12, 13, 14, 16, 22, 211, 321, 2212}


def _conjugate(codes: list[int]) -> list[int]:
    return [c if kin.name(c) == kin.conjugate_name(kin.name(c)) else -c for c in codes]


def _pick(rng: random.Random, table: Decays) -> list[int]:
    total = sum(w for w, _ in table)
    x = rng.random() * total
    for weight, daughters in table:
        x -= weight
        if x < 0:
            return daughters
    return table[-1][1]


class _Generator:
    """Builds the MC particle list of one event by recursive decays."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.particles: list[dict[str, Any]] = []
        self.vectors: list[kin.FourVector] = []

    def add(self, code: int, p4: kin.FourVector, mother: int) -> int:
        self.particles.append({"pdg": code, "mother": mother})
        self.vectors.append(p4)
        return len(self.particles) - 1

    def decay(
        self,
        index: int,
        daughters: list[int] | None = None,
        force: dict[int, list[int]] | None = None,
    ) -> None:
        """Decay particle ``index`` recursively: into ``daughters``, a forced decay, or the table."""
        code = self.particles[index]["pdg"]
        if abs(code) in _STABLE:
            return
        if daughters is None and force:
            daughters = force.get(code)
        if daughters is None:
            table = _DECAYS[abs(code)]
            daughters = _pick(self.rng, table)
            if code < 0:
                daughters = _conjugate(daughters)
        parent = self.vectors[index]
        m0 = kin.inv_mass(parent)
        rest = kin.n_body(m0, [kin.mass(d) for d in daughters], self.rng)
        beta = kin.velocity(parent)
        for d, v in zip(daughters, rest, strict=True):
            self.decay(self.add(d, kin.boost(v, *beta), index), force=force)

    def jets(self, root: int, hadrons: list[int]) -> None:
        """Continuum: two back-to-back jets sharing ``hadrons``, then hadron decays."""
        half = len(hadrons) // 2
        groups = [hadrons[:half], hadrons[half:]]
        sums = [sum(kin.mass(c) for c in g) for g in groups]
        spare = _SQRT_S - sum(sums)
        # Light jets: most of the energy is longitudinal, so jet masses stay small.
        jet_masses = [s + spare * self.rng.uniform(0.05, 0.3) for s in sums]
        axis = kin.isotropic(self.rng)
        jet_a, jet_b = kin.two_body(_SQRT_S, jet_masses[0], jet_masses[1], self.rng)
        p = math.sqrt(jet_a[1] ** 2 + jet_a[2] ** 2 + jet_a[3] ** 2)
        jet_a = (jet_a[0], p * axis[0], p * axis[1], p * axis[2])
        jet_b = (jet_b[0], -p * axis[0], -p * axis[1], -p * axis[2])
        for group, jet, jm in zip(groups, (jet_a, jet_b), jet_masses, strict=True):
            beta = kin.velocity(jet)
            for code, v in zip(
                group, kin.n_body(jm, [kin.mass(c) for c in group], self.rng), strict=True
            ):
                self.decay(self.add(code, kin.boost(v, *beta), root))


def _continuum_hadrons(rng: random.Random, flavour: str) -> list[int]:
    """Hadron content of a q-qbar event: charge-neutral overall."""
    hadrons: list[int] = []
    if flavour == "ccbar":
        hadrons += [421, -421] if rng.random() < 0.6 else [411, -411]
    n_pairs = rng.randint(1, 4 if flavour == "ccbar" else 5)
    kaon_pair = 0.5 if flavour == "ssbar" else 0.12
    for _ in range(n_pairs):
        hadrons += [321, -321] if rng.random() < kaon_pair else [211, -211]
    hadrons += [111] * rng.randint(0, 3)
    if rng.random() < 0.25:
        hadrons.append(310)
    if rng.random() < 0.03:
        hadrons += [2212, -2212]
    rng.shuffle(hadrons)
    return hadrons


def _generate(rng: random.Random, event_type: str) -> _Generator:
    gen = _Generator(rng)
    if event_type in ("mixed", "charged") or event_type.isdigit():
        root = gen.add(300553, (_SQRT_S, 0.0, 0.0, 0.0), -1)
        b = 521 if event_type == "charged" else 511
        m_b = kin.mass(b)
        v1, v2 = kin.two_body(_SQRT_S, m_b, m_b, rng)
        first, second = gen.add(b, v1, root), gen.add(-b, v2, root)
        if event_type.isdigit():
            signal, other = (first, second) if rng.random() < 0.5 else (second, first)
            _decay_signal(gen, signal)
            gen.decay(other)
        else:
            gen.decay(first)
            gen.decay(second)
    elif event_type == "taupair":
        root = gen.add(10022, (_SQRT_S, 0.0, 0.0, 0.0), -1)
        v1, v2 = kin.two_body(_SQRT_S, kin.mass(15), kin.mass(15), rng)
        gen.decay(gen.add(15, v1, root))
        gen.decay(gen.add(-15, v2, root))
    else:
        root = gen.add(10022, (_SQRT_S, 0.0, 0.0, 0.0), -1)
        gen.jets(root, _continuum_hadrons(rng, event_type))
    return gen


def _decay_signal(gen: _Generator, index: int) -> None:
    """B -> J/psi(-> l+ l-) K_S0(-> pi+ pi-), the template for signal event types."""
    lepton = 11 if gen.rng.random() < 0.5 else 13
    gen.decay(index, [443, 310], force={443: [lepton, -lepton], 310: [211, -211]})


def _r(x: float) -> float:
    """Round to 1 MeV: below detector resolution, and it keeps files small."""
    return round(x, 3) + 0.0


def _pid(rng: random.Random, true_code: int) -> dict[str, float]:
    """Likelihood-ratio-like probabilities: the true hypothesis usually, not always, wins."""
    true_hyp = next(h for h, c in kin.PID_HYPOTHESES.items() if c == abs(true_code))
    weights = {h: rng.uniform(0.0, 0.15) for h in kin.PID_HYPOTHESES}
    weights[true_hyp] += rng.betavariate(5.0, 1.2)
    total = sum(weights.values())
    return {h: round(w / total, 2) + 0.0 for h, w in weights.items()}


def _in_acceptance(p4: kin.FourVector) -> bool:
    p = math.sqrt(p4[1] ** 2 + p4[2] ** 2 + p4[3] ** 2)
    return p > 0 and _COS_MIN <= p4[3] / p <= _COS_MAX


def generate_truth(rng: random.Random, event_type: str) -> list[dict[str, Any]]:
    """The generated particles of one event (lab frame, GeV), as an ``mcparticles`` list."""
    gen = _generate(rng, event_type)
    lab = [kin.boost(v, 0.0, 0.0, _BETA_Z) for v in gen.vectors]
    return [
        {
            "pdg": p["pdg"],
            "mother": p["mother"],
            "E": _r(v[0]),
            "px": _r(v[1]),
            "py": _r(v[2]),
            "pz": _r(v[3]),
        }
        for p, v in zip(gen.particles, lab, strict=True)
    ]


def reconstruct(
    mcparticles: list[dict[str, Any]], rng: random.Random, *, with_truth: bool
) -> dict[str, Any]:
    """Tracks and photons seen by the detector: in acceptance, smeared, with PID.

    With ``with_truth`` each object keeps ``mc``, the index of its generated particle.
    """
    tracks: list[dict[str, Any]] = []
    photons: list[dict[str, Any]] = []
    for i, particle in enumerate(mcparticles):
        code = particle["pdg"]
        p4 = (particle["E"], particle["px"], particle["py"], particle["pz"])
        if code == 22:
            if p4[0] < 0.03 or not _in_acceptance(p4):
                continue
            scale = max(0.0, rng.gauss(1.0, 0.025))
            photon: dict[str, Any] = {
                "E": _r(p4[0] * scale),
                "px": _r(p4[1] * scale),
                "py": _r(p4[2] * scale),
                "pz": _r(p4[3] * scale),
            }
            if with_truth:
                photon["mc"] = i
            photons.append(photon)
        elif abs(code) in (11, 13, 211, 321, 2212):
            if math.hypot(p4[1], p4[2]) < 0.05 or not _in_acceptance(p4):
                continue
            scale = rng.gauss(1.0, 0.004)
            track: dict[str, Any] = {
                "charge": kin.charge(code),
                "px": _r(p4[1] * scale),
                "py": _r(p4[2] * scale),
                "pz": _r(p4[3] * scale),
                "pid": _pid(rng, code),
            }
            if with_truth:
                track["mc"] = i
            tracks.append(track)
    return {"tracks": tracks, "photons": photons}


def check_event_type(event_type: str) -> None:
    """Raise ValueError unless ``event_type`` is one the synthesiser knows."""
    if event_type not in GENERIC_TYPES and event_type != "data" and not event_type.isdigit():
        raise ValueError(
            f"unknown event type {event_type!r}: use one of {', '.join(GENERIC_TYPES)}, "
            "'data' or a signal event-type number"
        )


def synthetic_events(
    n_events: int,
    seed: int,
    *,
    event_type: str,
    is_mc: bool = True,
    experiment: int = 1003,
    run: int = 0,
) -> Iterator[dict[str, Any]]:
    """The events of a synthetic file, generated lazily and deterministically."""
    check_event_type(event_type)
    rng = random.Random(f"gb2-synth:{seed}:{event_type}:{experiment}:{run}")
    mixture = list(_DATA_MIXTURE.items())
    for number in range(1, n_events + 1):
        physics = event_type
        if event_type == "data":
            physics = mixture[_pick(rng, [(w, [i]) for i, (_, w) in enumerate(mixture)])[0]][0]
        truth = generate_truth(rng, physics)
        event: dict[str, Any] = {"experiment": experiment, "run": run, "event": number}
        event.update(reconstruct(truth, rng, with_truth=is_mc))
        if is_mc:
            event["mcparticles"] = truth
        yield event


def write_synthetic_mdst(
    path: str | Path,
    n_events: int,
    seed: int,
    *,
    event_type: str,
    data_level: str = "mdst",
    experiment: int = 1003,
    run: int = 0,
    is_mc: bool | None = None,
    lfn: str = "",
) -> int:
    """Write a synthetic ``mdst``/``udst`` file; return its number of events.

    ``is_mc`` defaults to ``event_type != "data"``; data files carry no MC truth.
    ``lfn`` is recorded as the file's LFN (jobs then list it as a parent of their outputs).
    """
    if data_level not in ("mdst", "udst"):
        raise ValueError(f"data_level must be 'mdst' or 'udst', not {data_level!r}")
    if n_events < 0:
        raise ValueError("n_events must not be negative")
    mc = event_type != "data" if is_mc is None else is_mc
    events = list(
        synthetic_events(
            n_events, seed, event_type=event_type, is_mc=mc, experiment=experiment, run=run
        )
    )
    low, high = event_range(events)
    metadata = file_metadata(
        lfn=lfn,
        n_events=len(events),
        low=low,
        high=high,
        parents=[],
        random_seed=str(seed),
        is_mc=mc,
        mc_events=len(events) if mc else 0,
        data_description={"dataLevel": data_level, "mcEventType": event_type if mc else ""},
    )
    metadata["synth"] = {"generator": "gb2.standin.synth", "seed": seed, "event_type": event_type}
    return write_event_file(path, events, kind=data_level, metadata=metadata)
