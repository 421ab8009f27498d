"""Analysis modules: particle lists, selections, combinations, MC matching and ntuples.

They implement the behaviour behind basf2's ``modularAnalysis`` functions for the
subset of decay strings, cuts and variables documented in
:mod:`gb2.standin.decaystring`, :mod:`gb2.standin.cuts` and
:mod:`gb2.standin.variables`. Charge-conjugate lists are handled as in basf2:
filling ``pi+:x`` also fills ``pi-:x``, and ``D0 -> K- pi+`` also builds
``anti-D0 -> K+ pi-``. A module using a list that no earlier module creates
logs an ERROR, so processing does not start.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from gb2.standin import datastore, ntuples
from gb2.standin import kinematics as kin
from gb2.standin.b2log import B2ERROR, B2WARNING
from gb2.standin.cuts import Context, compile_cut, compile_expression
from gb2.standin.datastore import Particle
from gb2.standin.decaystring import DecayString, ListName, parse, parse_list_name
from gb2.standin.framework import Module, Param
from gb2.standin.runtime import ENV

_TRACK_TYPES = {11, 13, 211, 321, 2212}


def _declare(name: ListName) -> None:
    ENV.declared_lists.update({name.full, name.conjugate().full})


def _require(name: ListName) -> None:
    if name.full not in ENV.declared_lists:
        B2ERROR(
            f"The required particle list '{name.full}' does not exist: no earlier module "
            "in the path creates it"
        )


def _both(name: ListName) -> list[ListName]:
    return [name] if name.self_conjugate else [name, name.conjugate()]


class ParticleLoader(Module):
    """Makes ``<particle>:all`` lists from tracks or photons (``<particle>:MC`` from MC truth)."""

    DESCRIPTION = "Loads final-state particles from tracks, photons or MC particles"
    PARAMS = {
        "decayStrings": Param([], "particle types to load, e.g. ['pi+:good']"),
        "decayStringsWithCuts": Param([], "older form: list of (decayString, cut)"),
        "useMCParticles": Param(False, "load MC particles instead of reconstructed objects"),
        "writeOut": Param(False, "accepted"),
        "addDaughters": Param(False, "accepted"),
        "skipNonPrimaryDaughters": Param(False, "accepted"),
        "trackHypothesis": Param(0, "accepted"),
        "enforceFitHypothesis": Param(False, "accepted"),
        "useROEs": Param(False, "not supported by the stand-in"),
        "useMissing": Param(False, "not supported by the stand-in"),
        "roeMaskName": Param("", "not supported by the stand-in"),
        "sourceParticleListName": Param("", "not supported by the stand-in"),
        "loadPhotonsFromKLM": Param(False, "not supported by the stand-in"),
    }

    def initialize(self) -> None:
        if self.get("useROEs") or self.get("useMissing") or self.get("loadPhotonsFromKLM"):
            B2ERROR(
                "loading particles from the rest of event or KLM is not supported by gb2's basf2 stand-in"
            )
        strings = list(self.get("decayStrings")) + [d[0] for d in self.get("decayStringsWithCuts")]
        self.label = "MC" if self.get("useMCParticles") else "all"
        self.types: list[ListName] = []
        for text in strings:
            name = parse(text).mother
            code = abs(name.pdg)
            if not self.get("useMCParticles") and code not in _TRACK_TYPES and code != 22:
                B2ERROR(
                    f"gb2's basf2 stand-in cannot load {name.particle} from mdst objects (only "
                    "e, mu, pi, K, p from tracks and gamma from photons); build it with reconstructDecay"
                )
                continue
            loaded = ListName(name.particle, self.label)
            self.types.append(loaded)
            _declare(loaded)

    def event(self) -> None:
        store = datastore.current()
        for name in self.types:
            if self.label == "MC":
                self._load_mc(store, name)
            elif name.pdg == 22:
                store.lists[name.full] = [
                    Particle(
                        22,
                        (g["E"], g["px"], g["py"], g["pz"]),
                        0,
                        sources=frozenset({("photon", i)}),
                        mc_index=g.get("mc"),
                    )
                    for i, g in enumerate(store.event.get("photons", []))
                ]
            else:
                self._load_tracks(store, name)

    @staticmethod
    def _load_tracks(store: datastore.EventStore, name: ListName) -> None:
        for target in _both(name):
            code, q = target.pdg, kin.charge(target.pdg)
            store.lists[target.full] = [
                Particle(
                    code,
                    kin.four_vector(kin.mass(code), t["px"], t["py"], t["pz"]),
                    q,
                    sources=frozenset({("track", i)}),
                    mc_index=t.get("mc"),
                    pid=t.get("pid", {}),
                )
                for i, t in enumerate(store.event.get("tracks", []))
                if t["charge"] == q
            ]

    @staticmethod
    def _load_mc(store: datastore.EventStore, name: ListName) -> None:
        for target in _both(name):
            store.lists[target.full] = [
                Particle(
                    m["pdg"],
                    (m["E"], m["px"], m["py"], m["pz"]),
                    kin.charge(m["pdg"]),
                    sources=frozenset({("mc", i)}),
                    mc_index=i,
                    mc_matched=True,
                )
                for i, m in enumerate(store.mcparticles())
                if m["pdg"] == target.pdg
            ]


class ParticleListManipulator(Module):
    """Copies (merges) particle lists into a new list, optionally with a cut."""

    DESCRIPTION = "Merges particle lists into a new one"
    PARAMS = {
        "outputListName": Param("", "list to create"),
        "inputListNames": Param([], "lists to copy from"),
        "cut": Param("", "selection applied while copying"),
        "variable": Param("", "accepted (best-candidate choice is not supported)"),
        "preferLowest": Param(True, "accepted"),
        "writeOut": Param(False, "accepted"),
        "isSelfConjugatedParticle": Param(False, "accepted"),
    }

    def initialize(self) -> None:
        self.output = parse_list_name(self.get("outputListName"))
        self.inputs = [parse_list_name(n) for n in self.get("inputListNames")]
        for name in self.inputs:
            _require(name)
        self.cut = compile_cut(self.get("cut"))
        _declare(self.output)

    def event(self) -> None:
        store = datastore.current()
        for conjugate in (False, True):
            if conjugate and self.output.self_conjugate:
                break
            out = self.output.conjugate() if conjugate else self.output
            merged: list[Particle] = []
            seen: set[int] = set()
            for name in self.inputs:
                source = name.conjugate() if conjugate else name
                for p in store.lists.get(source.full, []):
                    if id(p) not in seen and self.cut(Context(store, p)):
                        seen.add(id(p))
                        merged.append(p)
            store.lists[out.full] = merged


class ParticleSelector(Module):
    """Removes candidates failing a cut from a list (and its charge conjugate)."""

    DESCRIPTION = "Applies a cut to a particle list"
    PARAMS = {"decayString": Param("", "list to cut on"), "cut": Param("", "selection")}

    def initialize(self) -> None:
        self.list = parse(self.get("decayString")).mother
        _require(self.list)
        self.cut = compile_cut(self.get("cut"))

    def event(self) -> None:
        store = datastore.current()
        for name in _both(self.list):
            store.lists[name.full] = [
                p for p in store.lists.get(name.full, []) if self.cut(Context(store, p))
            ]


class ParticleCombiner(Module):
    """Builds mother candidates from all non-overlapping combinations of daughter candidates."""

    DESCRIPTION = "Combines particle lists according to a decay string"
    PARAMS = {
        "decayString": Param("", "e.g. 'K_S0:pipi -> pi+:all pi-:all'"),
        "cut": Param("", "selection on the mother"),
        "decayMode": Param(0, "accepted"),
        "writeOut": Param(False, "accepted"),
        "maximumNumberOfCandidates": Param(10000, "candidate limit per event"),
        "ignoreIfTooManyCandidates": Param(True, "drop all candidates of an event above the limit"),
        "chargeConjugation": Param(True, "also build the charge-conjugate decay"),
        "allowChargeViolation": Param(False, "allow daughters whose charges do not add up"),
        "recoilParticleType": Param(0, "only 0 is supported by the stand-in"),
    }

    def initialize(self) -> None:
        self.decay = parse(self.get("decayString"))
        if not self.decay.daughters:
            B2ERROR(f"decay string {self.get('decayString')!r} has no daughters")
        for d in self.decay.daughters:
            _require(d)
        charge = sum(kin.charge(d.pdg) for d in self.decay.daughters)
        if charge != kin.charge(self.decay.mother.pdg) and not self.get("allowChargeViolation"):
            B2ERROR(
                f"Charge of the mother and of the daughters do not match in {self.get('decayString')!r}"
            )
        if self.get("recoilParticleType"):
            B2ERROR("recoil combinations are not supported by gb2's basf2 stand-in")
        self.cut = compile_cut(self.get("cut"))
        _declare(self.decay.mother)

    def event(self) -> None:
        store = datastore.current()
        decays = [self.decay]
        cc = self.decay.conjugate()
        if self.get("chargeConjugation") and cc != self.decay:
            decays.append(cc)
        lists: dict[str, list[Particle]] = {}
        seen: dict[str, set[frozenset]] = {}
        for decay in decays:
            out = lists.setdefault(decay.mother.full, [])
            keys = seen.setdefault(decay.mother.full, set())
            for candidate in self._combine(store, decay):
                key = frozenset(candidate.sources)
                if key not in keys and self.cut(Context(store, candidate)):
                    keys.add(key)
                    out.append(candidate)
        limit = self.get("maximumNumberOfCandidates")
        for name, candidates in lists.items():
            if 0 < limit < len(candidates):
                B2WARNING(f"Maximum number of {limit} candidates reached for {name}")
                if self.get("ignoreIfTooManyCandidates"):
                    candidates.clear()
                else:
                    del candidates[limit:]
            store.lists[name] = candidates
        for name in _both(self.decay.mother):
            store.lists.setdefault(name.full, [])

    def _combine(self, store: datastore.EventStore, decay: DecayString) -> list[Particle]:
        inputs = [store.lists.get(d.full, []) for d in decay.daughters]
        out = []
        for combo in itertools.product(*inputs):
            sources: set = set()
            for d in combo:
                if sources & d.sources:
                    break
                sources |= d.sources
            else:
                out.append(
                    Particle(
                        decay.mother.pdg,
                        kin.add(*(d.p4 for d in combo)),
                        sum(d.charge for d in combo),
                        daughters=tuple(combo),
                        sources=frozenset(sources),
                    )
                )
        return out


def _ancestors(index: int, mc: list[dict[str, Any]]) -> list[int]:
    chain = []
    while index >= 0:
        chain.append(index)
        index = mc[index]["mother"]
    return chain


class MCMatcherParticles(Module):
    """Matches candidates to generated particles (needed for ``isSignal``/``mcPDG``)."""

    DESCRIPTION = "MC matching of the candidates of a list"
    PARAMS = {
        "listName": Param("", "list to match"),
        "looseMCMatching": Param(False, "not supported"),
    }

    def initialize(self) -> None:
        self.list = parse_list_name(self.get("listName"))
        _require(self.list)
        if self.get("looseMCMatching"):
            B2ERROR("loose MC matching is not supported by gb2's basf2 stand-in")

    def event(self) -> None:
        store = datastore.current()
        if not store.is_mc:
            return
        mc = store.mcparticles()
        for name in _both(self.list):
            for p in store.lists.get(name.full, []):
                self._match(p, mc)

    def _match(self, p: Particle, mc: list[dict[str, Any]]) -> None:
        """FSPs keep their generated particle; composites get the daughters' closest common ancestor."""
        p.mc_matched = True
        if not p.daughters:
            return
        for d in p.daughters:
            self._match(d, mc)
        indices = [d.mc_index for d in p.daughters]
        if any(i is None for i in indices):
            p.mc_index = None
            return
        chains = [_ancestors(i, mc)[1:] for i in indices]  # type: ignore[arg-type]
        common = set(chains[0]).intersection(*chains[1:])
        p.mc_index = next((a for a in chains[0] if a in common), None)


class RemoveParticlesNotInLists(Module):
    """Drops all particle lists except the given ones (and their conjugates)."""

    DESCRIPTION = "Removes particle lists not given"
    PARAMS = {"particleLists": Param([], "lists to keep")}

    def event(self) -> None:
        store = datastore.current()
        keep: set[str] = set()
        for name in self.get("particleLists"):
            keep.update(n.full for n in _both(parse_list_name(name)))
        store.lists = {k: v for k, v in store.lists.items() if k in keep}


class VariablesToNtuple(Module):
    """Writes one row per candidate (or per event for an empty list) to a flat ntuple."""

    DESCRIPTION = "Writes variables to a flat ntuple"
    PARAMS = {
        "particleList": Param("", "list whose candidates become rows; empty: one row per event"),
        "variables": Param([], "variables (expressions) to store"),
        "fileName": Param("ntuple.root", "output file"),
        "treeName": Param("ntuple", "tree name"),
        "basketSize": Param(1600, "accepted"),
        "signalSideParticleList": Param("", "not supported by the stand-in"),
        "fileNameSuffix": Param("", "appended to the file name before the extension"),
        "useFloat": Param(False, "accepted"),
        "storeEventType": Param(True, "accepted"),
        "ignoreCommandLineOverride": Param(False, "accepted"),
        "sampling": Param(("", {}), "not supported by the stand-in"),
    }

    def initialize(self) -> None:
        if self.was_set("sampling"):
            B2ERROR("'sampling' is not supported by gb2's basf2 stand-in")
        if self.get("signalSideParticleList"):
            B2ERROR("'signalSideParticleList' is not supported by gb2's basf2 stand-in")
        text = self.get("particleList")
        self.list = parse_list_name(text) if text else None
        if self.list:
            _require(self.list)
        self.columns = list(dict.fromkeys(self.get("variables")))
        self.exprs = [compile_expression(v) for v in self.columns]
        filename = self.get("fileName")
        if self.get("fileNameSuffix"):
            stem, dot, ext = filename.rpartition(".")
            filename = (
                f"{stem}{self.get('fileNameSuffix')}.{ext}"
                if dot
                else filename + self.get("fileNameSuffix")
            )
        self.rows = ntuples.register(filename, self.get("treeName"))

    def event(self) -> None:
        store = datastore.current()
        ev = store.event
        base = {
            "__experiment__": ev.get("experiment", 0),
            "__run__": ev.get("run", 0),
            "__event__": ev.get("event", 0),
        }
        if self.list is None:
            self.rows.append({**base, **self._row_values(Context(store))})
            return
        candidates = store.lists.get(self.list.full, [])
        for i, p in enumerate(candidates):
            row = {**base, "__candidate__": i, "__ncandidates__": len(candidates)}
            row.update(self._row_values(Context(store, p)))
            self.rows.append(row)

    def _row_values(self, ctx: Context) -> dict[str, float]:
        values = {}
        for column, expr in zip(self.columns, self.exprs, strict=True):
            value = expr(ctx)
            values[column] = value if math.isnan(value) else round(value, 9)
        return values


MODULES = [
    ParticleLoader,
    ParticleListManipulator,
    ParticleSelector,
    ParticleCombiner,
    MCMatcherParticles,
    RemoveParticlesNotInLists,
    VariablesToNtuple,
]
