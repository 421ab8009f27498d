"""``reconstruction`` (stand-in): turns simulated particles into mdst tracks and photons."""

from __future__ import annotations

from basf2 import Path


def add_reconstruction(
    path: Path, components: list[str] | None = None, pruneTracks: bool = True, **kwargs
) -> None:
    """Add the stand-in's reconstruction (efficiency, resolution and PID from its simple model)."""
    path.add_module("StandinReconstruction")
