"""Placeholder until the Rucio routes land."""

from __future__ import annotations


def routes(state):
    return []
