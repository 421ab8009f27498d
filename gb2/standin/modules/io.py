"""RootInput and RootOutput over gb2 event files (see :mod:`gb2.standin.eventfile`).

RootInput reads its files in order; ``-i`` replaces its file names and
``--skip-events`` its ``skipNEvents``, as in basf2. Every input file is checked
(magic, header, payload checksum) before the first event, so a damaged file
fails the job with a FATAL message instead of producing partial output.
RootOutput writes the events reaching it (only selected events when it sits in
a skim path); ``-o`` renames the first RootOutput of the job.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from typing import Any

from gb2.standin import datastore
from gb2.standin import kinematics as kin
from gb2.standin.b2log import B2ERROR, B2FATAL, B2INFO
from gb2.standin.datastore import Particle
from gb2.standin.eventfile import EventFileError, EventFileWriter, iter_events, verify
from gb2.standin.filemeta import file_metadata
from gb2.standin.framework import Module, Param
from gb2.standin.jobinfo import JOB_INFO
from gb2.standin.runtime import ENV

_EVENT_KINDS = ("mdst", "udst", "mc")
#: Event-record keys the stand-in uses while processing; never written to files.
_INTERNAL_KEYS = ("particle_lists", "simulated", "generated")
#: RootInput modules initialized in this job (the first one is the parent of outputs).
_INPUTS: list[RootInput] = []


def _expand(names: list[str]) -> list[str]:
    """Expand wildcards like RootInput does (names that exist are kept as they are)."""
    files: list[str] = []
    for name in names:
        if not os.path.exists(name) and any(c in name for c in "*?["):
            files.extend(sorted(glob.glob(name)))
        else:
            files.append(name)
    return files


class RootInput(Module):
    """Reads events from (stand-in) mdst/udst files, in the order given."""

    DESCRIPTION = "Reads objects/arrays from one or more event files into the DataStore"
    PROVIDES_EVENTS = True
    PARAMS = {
        "inputFileName": Param("", "input file name"),
        "inputFileNames": Param([], "input file names, read in order"),
        "skipNEvents": Param(0, "skip this many events before starting"),
        "entrySequences": Param([], "not supported by the stand-in"),
        "parentLevel": Param(0, "only 0 is supported by the stand-in"),
        "branchNames": Param([], "accepted, all branches are read"),
        "excludeBranchNames": Param([], "accepted, all branches are read"),
        "branchNamesPersistent": Param([], "accepted"),
        "excludeBranchNamesPersistent": Param([], "accepted"),
        "skipToEvent": Param([], "not supported by the stand-in"),
        "collectStatistics": Param(False, "accepted"),
        "cacheSize": Param(0, "accepted"),
        "discardErrorEvents": Param(True, "accepted"),
        "isSecondaryInput": Param(False, "not supported by the stand-in"),
    }

    def file_names(self) -> list[str]:
        if ENV.input_files_override:
            return _expand(ENV.input_files_override)
        single = self.get("inputFileName")
        return _expand([single] if single else list(self.get("inputFileNames")))

    def dry_run_lines(self) -> list[str]:
        return [f"INPUT FILE: {name}" for name in self.file_names()]

    def initialize(self) -> None:
        for unsupported in ("entrySequences", "skipToEvent"):
            if self.get(unsupported):
                B2ERROR(f"parameter '{unsupported}' is not supported by gb2's basf2 stand-in")
        if self.get("parentLevel") != 0 or self.get("isSecondaryInput"):
            B2ERROR(
                "reading parent files or secondary input is not supported by gb2's basf2 stand-in"
            )
        self.files = self.file_names()
        if not self.files:
            B2FATAL(
                "You have to set either the 'inputFileName' or the 'inputFileNames' parameter, "
                "or start basf2 with the '--input' option."
            )
        self.headers = []
        for name in self.files:
            try:
                header = verify(name)
            except EventFileError as e:
                B2FATAL(f"Couldn't open input file {name}: {e}")
            if header["kind"] not in _EVENT_KINDS:
                B2FATAL(
                    f"Couldn't open input file {name}: it is a {header['kind']} file, not an event file"
                )
            self.headers.append(header)
        skip = ENV.skip_events_override
        self.skip = self.get("skipNEvents") if skip is None else skip
        for header in self.headers:
            ENV.declared_lists.update(header["metadata"].get("particleLists", []))
        _INPUTS.append(self)
        B2INFO(f"Input files: {len(self.files)}, events: {sum(h['events'] for h in self.headers)}")

    # --- used by the event loop and by RootOutput ----------------------------------
    def expected_events(self, limit: int) -> int:
        total = max(0, sum(h["events"] for h in self.headers) - self.skip)
        return min(total, limit) if limit else total

    def next_events(self) -> Iterator[dict[str, Any]]:
        skipped = 0
        for name in self.files:
            try:
                for event in iter_events(name):
                    if skipped < self.skip:
                        skipped += 1
                        continue
                    yield event
            except EventFileError as e:
                B2FATAL(f"Error reading input file {name}: {e}")

    def parents(self) -> list[str]:
        return [
            h["metadata"].get("LFN") or name
            for name, h in zip(self.files, self.headers, strict=True)
        ]

    def is_mc(self) -> bool:
        return any(h["metadata"].get("isMC", False) for h in self.headers)

    def mc_events(self) -> int:
        return sum(int(h["metadata"].get("mcEvents", 0)) for h in self.headers)

    def event(self) -> None:
        store = datastore.current()
        for name, saved in store.event.pop("particle_lists", {}).items():
            store.lists[name] = [_particle_from_record(r) for r in saved]


def _particle_from_record(record: dict[str, Any]) -> Particle:
    sources = frozenset(("track", i) for i in record.get("tracks", [])) | frozenset(
        ("photon", i) for i in record.get("photons", [])
    )
    p4 = (record["E"], record["px"], record["py"], record["pz"])
    return Particle(record["pdg"], p4, kin.charge(record["pdg"]), sources=sources)


def _particle_record(p: Particle) -> dict[str, Any]:
    return {
        "pdg": p.pdg,
        "E": round(p.p4[0], 6),
        "px": round(p.p4[1], 6),
        "py": round(p.p4[2], 6),
        "pz": round(p.p4[3], 6),
        "tracks": sorted(i for kind, i in p.sources if kind == "track"),
        "photons": sorted(i for kind, i in p.sources if kind == "photon"),
    }


_OUTPUT_OVERRIDE_TAKEN: list[Module] = []


class RootOutput(Module):
    """Writes the events that reach it to a (stand-in) event file."""

    DESCRIPTION = "Writes DataStore objects into an event file"
    PARAMS = {
        "outputFileName": Param("RootOutput.root", "output file name"),
        "compressionLevel": Param(1, "accepted"),
        "compressionAlgorithm": Param(0, "accepted"),
        "splitLevel": Param(99, "accepted"),
        "branchNames": Param(
            [],
            "event branches to write; empty: all (MCParticles decides truth; "
            "particle lists named here are written)",
        ),
        "branchNamesPersistent": Param([], "accepted"),
        "additionalBranchNames": Param(
            [], "further branches; particle lists named here are written"
        ),
        "excludeBranchNames": Param([], "branches not to write (MCParticles drops truth)"),
        "excludeBranchNamesPersistent": Param([], "accepted"),
        "additionalDataDescription": Param({}, "data description entries for the file metadata"),
        "updateFileCatalog": Param(True, "accepted (no file catalogue is written)"),
        "keepParents": Param(False, "accepted"),
        "buildIndex": Param(True, "accepted"),
        "outputSplitSize": Param(0, "not supported by the stand-in"),
        "autoFlushSize": Param(-100000, "accepted"),
    }

    def file_name(self) -> str:
        if ENV.output_file_override and (
            not _OUTPUT_OVERRIDE_TAKEN or _OUTPUT_OVERRIDE_TAKEN[0] is self
        ):
            if not _OUTPUT_OVERRIDE_TAKEN:
                _OUTPUT_OVERRIDE_TAKEN.append(self)
            return ENV.output_file_override
        return self.get("outputFileName")

    def dry_run_lines(self) -> list[str]:
        return [f"OUTPUT FILE: {self.file_name()}"]

    def initialize(self) -> None:
        if self.get("outputSplitSize"):
            B2ERROR("parameter 'outputSplitSize' is not supported by gb2's basf2 stand-in")
        self.filename = self.file_name()
        branches = set(self.get("branchNames"))
        excluded = set(self.get("excludeBranchNames"))
        self.keep_truth = (
            not branches or "MCParticles" in branches
        ) and "MCParticles" not in excluded
        named = list(self.get("branchNames")) + list(self.get("additionalBranchNames"))
        self.list_names = [b for b in named if _is_list_name(b)]
        description = dict(self.get("additionalDataDescription"))
        level = description.get("dataLevel", "udst" if "Particles" in named else "mdst")
        self.kind = level if level in ("mdst", "udst") else "mdst"
        self.description = description
        self.writer = EventFileWriter(self.filename, kind=self.kind)
        self.keys: list[tuple[int, int, int]] = []  # lowest and highest (exp, run, evt) so far
        self.generated = 0

    def event(self) -> None:
        store = datastore.current()
        record = {k: v for k, v in store.event.items() if k not in _INTERNAL_KEYS}
        if not self.keep_truth:
            record.pop("mcparticles", None)
            record["tracks"] = [
                {k: v for k, v in t.items() if k != "mc"} for t in record.get("tracks", [])
            ]
            record["photons"] = [
                {k: v for k, v in g.items() if k != "mc"} for g in record.get("photons", [])
            ]
        if self.list_names:
            record["particle_lists"] = {
                name: [_particle_record(p) for p in store.lists[name]]
                for name in self.list_names
                if name in store.lists
            }
        if store.event.get("generated"):
            self.generated += 1
        key = (record.get("experiment", 0), record.get("run", 0), record.get("event", 0))
        self.keys = [min([key, *self.keys[:1]]), max([key, *self.keys[1:]])]
        self.writer.add(record)

    def terminate(self) -> None:
        source = _source_input()
        parents = source.parents() if source else []
        is_mc = (source.is_mc() if source else False) or self.generated > 0
        mc_events = (source.mc_events() if source else 0) + self.generated
        low, high = self.keys if self.keys else ((0, 0, 0), (0, 0, 0))
        metadata = file_metadata(
            lfn=self.filename,
            n_events=self.writer.count,
            low=low,
            high=high,
            parents=parents,
            random_seed=ENV.seed(),
            is_mc=is_mc,
            mc_events=mc_events,
            data_description=self.description,
            steering=ENV.steering_text,
        )
        if self.list_names:
            metadata["particleLists"] = sorted(self.list_names)
        count = self.writer.close(metadata)
        B2INFO(f"Wrote {count} events to {self.filename}")
        JOB_INFO.add_root_output(self.filename, metadata, count)


def _source_input() -> RootInput | None:
    return _INPUTS[0] if _INPUTS else None


def _is_list_name(branch: str) -> bool:
    from gb2.standin.decaystring import DecayStringError, parse_list_name

    if branch in (
        "Particles",
        "ParticlesToMCParticles",
        "ParticlesToPIDLikelihoods",
        "ParticleExtraInfoMap",
        "EventExtraInfo",
    ):
        return False
    try:
        parse_list_name(branch)
    except DecayStringError:
        return False
    return True


MODULES = [RootInput, RootOutput]
