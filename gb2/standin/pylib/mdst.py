"""``mdst`` (stand-in): the mDST output helper."""

from __future__ import annotations

from basf2 import Path, register_module

MDST_BRANCHES = [
    "Tracks",
    "V0s",
    "TrackFitResults",
    "PIDLikelihoods",
    "TracksToPIDLikelihoods",
    "ECLClusters",
    "ECLClustersToTracks",
    "KLMClusters",
    "KLMClustersToTracks",
    "TRGSummary",
    "SoftwareTriggerResult",
    "EventLevelTrackingInfo",
    "EventLevelClusteringInfo",
]
MC_BRANCHES = [
    "MCParticles",
    "TracksToMCParticles",
    "ECLClustersToMCParticles",
    "KLMClustersToMCParticles",
]


def add_mdst_output(
    path: Path,
    mc: bool = True,
    filename: str = "mdst.root",
    additionalBranches: list[str] | None = None,
    dataDescription: dict | None = None,
):
    """Add RootOutput writing the mDST branches (with MC truth if ``mc``) to ``path``."""
    output = register_module("RootOutput")
    output.param("outputFileName", filename)
    branches = MDST_BRANCHES + (MC_BRANCHES if mc else [])
    output.param("branchNames", branches + list(additionalBranches or []))
    description = dict(dataDescription or {})
    description.setdefault("dataLevel", "mdst")
    output.param("additionalDataDescription", description)
    path.add_module(output)
    return output
