"""Event creation for input-less (MC) jobs: EventInfoSetter, generators, simulation, reconstruction.

EventInfoSetter numbers the events (``-n``, ``--experiment``/``--run`` and
``--skip-events`` override it, as in basf2). The generators fill the event's
``mcparticles`` with :mod:`gb2.standin.synth`'s physics; which physics is read
from the file names basf2's generator helpers pass (``mixed.dec``,
``charged.dec``, ``uubar_nohadronization.input.dat`` ...). A user's own EvtGen
decay file is not interpreted: the stand-in then generates its signal template
and says so. Every event has its own random stream derived from the job's
random seed and the event's numbers, so a given seed always gives the same events.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

from gb2.standin import datastore, synth
from gb2.standin.b2log import B2ERROR, B2FATAL, B2WARNING
from gb2.standin.framework import Module, Param
from gb2.standin.runtime import ENV


class EventInfoSetter(Module):
    """Creates empty events with experiment, run and event numbers."""

    DESCRIPTION = "Sets the event meta data information (exp, run, evt)"
    PROVIDES_EVENTS = True
    PARAMS = {
        "evtNumList": Param([1], "number of events per run"),
        "runList": Param([0], "run numbers"),
        "expList": Param([0], "experiment numbers"),
        "skipNEvents": Param(0, "skip this many events before starting"),
        "eventTimeStamp": Param([], "accepted"),
        "production": Param(0, "accepted"),
    }

    def initialize(self) -> None:
        events, runs, exps = (list(self.get(k)) for k in ("evtNumList", "runList", "expList"))
        if not len(events) == len(runs) == len(exps):
            B2FATAL(
                "Parameters 'evtNumList', 'runList' and 'expList' must have the same number of entries"
            )
        if ENV.n_events_override:
            events = [ENV.n_events_override]
            runs, exps = runs[:1] or [0], exps[:1] or [0]
        if ENV.run_experiment_override:
            run, exp = ENV.run_experiment_override
            runs, exps = [run], [exp]
        self.blocks = list(zip(exps, runs, events, strict=True))
        skip = ENV.skip_events_override
        self.skip = self.get("skipNEvents") if skip is None else skip

    def expected_events(self, limit: int) -> int:
        total = max(0, sum(n for _, _, n in self.blocks) - self.skip)
        return min(total, limit) if limit else total

    def next_events(self) -> Iterator[dict[str, Any]]:
        skipped = 0
        for exp, run, count in self.blocks:
            for number in range(1, count + 1):
                if skipped < self.skip:
                    skipped += 1
                    continue
                yield {"experiment": exp, "run": run, "event": number}


def event_rng(module: Module) -> random.Random:
    """A random stream for this module and event, from the job's seed."""
    event = datastore.current().event
    key = f"{ENV.seed()}:{module.type()}:{event.get('experiment')}:{event.get('run')}:{event.get('event')}"
    return random.Random(key)


class _Generator(Module):
    """Common part of the stand-in generators: fill ``mcparticles`` for one physics type."""

    physics = "mixed"

    def event(self) -> None:
        store = datastore.current()
        store.event["mcparticles"] = synth.generate_truth(event_rng(self), self.physics)
        store.event["generated"] = True


class EvtGenInput(_Generator):
    """B-meson pairs from the Upsilon(4S) (physics chosen from the decay-file name)."""

    DESCRIPTION = "EvtGen generator for Upsilon(4S) -> B Bbar events (stand-in physics)"
    PARAMS = {
        "userDECFile": Param("", "decay file: mixed.dec, charged.dec, or a signal decay file"),
        "DECFile": Param("", "accepted"),
        "ParentParticle": Param("Upsilon(4S)", "only Upsilon(4S) is supported by the stand-in"),
        "InclusiveType": Param(0, "accepted"),
        "InclusiveParticle": Param("", "accepted"),
        "CoherentMixing": Param(True, "accepted"),
        "maxTries": Param(100000, "accepted"),
    }

    def initialize(self) -> None:
        if self.get("ParentParticle") != "Upsilon(4S)":
            B2ERROR("gb2's basf2 stand-in generates only Upsilon(4S) events")
        decfile = self.get("userDECFile")
        base = os.path.basename(decfile)
        if base in ("mixed.dec", "charged.dec"):
            self.physics = base.removesuffix(".dec")
        elif not decfile:
            B2ERROR("EvtGenInput needs a decay file ('userDECFile')")
        elif not os.path.isfile(decfile):
            B2ERROR(f"The decay file {decfile} does not exist")
        else:
            B2WARNING(
                f"gb2's basf2 stand-in does not read EvtGen decay files: for {decfile} it "
                "generates its signal template B0 -> J/psi(-> l+ l-) K_S0(-> pi+ pi-)"
            )
            self.physics = "1111540100"


class KKGenInput(_Generator):
    """Continuum q-qbar or tau-pair events (physics chosen from the KKMC input-file name)."""

    DESCRIPTION = "KKMC generator for continuum and tau-pair events (stand-in physics)"
    PARAMS = {
        "tauinputFile": Param(
            "", "KKMC input file, e.g. data/generators/kkmc/uubar_nohadronization.input.dat"
        ),
        "KKdefaultFile": Param("", "accepted"),
        "taudecaytableFile": Param("", "accepted"),
        "kkmcoutputfilename": Param("", "accepted"),
    }

    def initialize(self) -> None:
        base = os.path.basename(self.get("tauinputFile"))
        flavour = base.split("_")[0].split(".")[0]
        if flavour in ("uubar", "ddbar", "ssbar", "ccbar"):
            self.physics = flavour
        elif flavour == "tau":
            self.physics = "taupair"
        else:
            B2ERROR(
                f"gb2's basf2 stand-in cannot generate events for KKMC input {base!r} "
                "(supported: uubar, ddbar, ssbar, ccbar, tau)"
            )


class FullSim(Module):
    """Detector simulation: marks the event as simulated (the stand-in has no Geant4)."""

    DESCRIPTION = "Detector simulation (stand-in: marks events as simulated)"

    def event(self) -> None:
        datastore.current().event["simulated"] = True


class StandinReconstruction(Module):
    """gb2 stand-in only: turns simulated particles into tracks and photons (not a basf2 module)."""

    DESCRIPTION = "gb2 stand-in reconstruction: tracks and photons from generated particles"

    def initialize(self) -> None:
        self.warned = False

    def event(self) -> None:
        store = datastore.current()
        mc = store.event.get("mcparticles")
        if not mc or not store.event.get("simulated"):
            if not self.warned:
                B2WARNING(
                    "nothing to reconstruct: events need a generator and the simulation first"
                )
                self.warned = True
            store.event.setdefault("tracks", [])
            store.event.setdefault("photons", [])
            return
        store.event.update(synth.reconstruct(mc, event_rng(self), with_truth=True))


MODULES = [EventInfoSetter, EvtGenInput, KKGenInput, FullSim, StandinReconstruction]
