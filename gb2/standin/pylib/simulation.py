"""``simulation`` (stand-in): detector simulation (a marker: the stand-in has no Geant4)."""

from __future__ import annotations

from basf2 import B2WARNING, Path


def add_simulation(
    path: Path, components: list[str] | None = None, bkgfiles: list[str] | None = None, **kwargs
) -> None:
    """Add the simulation; beam-background files are not overlaid by the stand-in."""
    if bkgfiles:
        B2WARNING("gb2's basf2 stand-in does not overlay beam background; bkgfiles are ignored")
    path.add_module("FullSim")
