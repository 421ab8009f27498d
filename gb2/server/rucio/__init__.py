"""Rucio-compatible catalogue of the embedded server (mounted under ``/rucio``)."""
