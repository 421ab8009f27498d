"""``udst`` (stand-in): uDST output helpers (mDST + particle lists)."""

from __future__ import annotations

import basf2
import mdst
import pdg
from modularAnalysis import removeParticlesNotInLists

_PARTICLE_BRANCHES = [
    "Particles",
    "ParticlesToMCParticles",
    "ParticlesToPIDLikelihoods",
    "ParticleExtraInfoMap",
    "EventExtraInfo",
]


def add_udst_output(
    path: basf2.Path,
    filename: str,
    particleLists: list[str] | None = None,
    additionalBranches: list[str] | None = None,
    dataDescription: dict | None = None,
    mc: bool = True,
):
    """Write a uDST: the mDST content plus the given particle lists and their conjugates."""
    particle_lists = set(particleLists or [])
    for name in list(particle_lists):
        particle, label = name.split(":")
        particle_lists.add(pdg.conjugate(particle) + ":" + label)
    branches = _PARTICLE_BRANCHES + list(additionalBranches or []) + sorted(particle_lists)
    description = dict(dataDescription or {})
    description.update(dataLevel="udst")
    return mdst.add_mdst_output(
        path, mc=mc, filename=filename, additionalBranches=branches, dataDescription=description
    )


def add_skimmed_udst_output(
    path: basf2.Path,
    skimDecayMode: str,
    skimParticleLists: list[str] | None = None,
    outputParticleLists: list[str] | None = None,
    additionalBranches: list[str] | None = None,
    outputFile: str | None = None,
    dataDescription: dict | None = None,
    mc: bool = True,
) -> None:
    """Write only events with a candidate in one of ``skimParticleLists`` to a uDST."""
    skimParticleLists = list(skimParticleLists or [])
    outputParticleLists = list(outputParticleLists or [])
    outputFile = outputFile or skimDecayMode
    if not outputFile.endswith(".udst.root"):
        outputFile += ".udst.root"
    skimfilter = basf2.register_module("SkimFilter")
    skimfilter.set_name("SkimFilter_" + skimDecayMode)
    skimfilter.param("particleLists", skimParticleLists)
    path.add_module(skimfilter)
    filter_path = basf2.create_path()
    skimfilter.if_value("=1", filter_path, basf2.AfterConditionPath.CONTINUE)
    skim_path = basf2.create_path()
    saved = skimParticleLists + outputParticleLists
    removeParticlesNotInLists(saved, path=skim_path)
    description = dict(dataDescription or {})
    description.setdefault("skimDecayMode", skimDecayMode)
    add_udst_output(
        skim_path, outputFile, saved, additionalBranches, dataDescription=description, mc=mc
    )
    filter_path.add_independent_path(skim_path, "skim_" + skimDecayMode)
