"""Thin clients for the grid services: DiracX (jobs, sandboxes, tokens) and Rucio (data)."""
