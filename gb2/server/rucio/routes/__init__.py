"""Rucio's REST routes, one module per resource (assembled by :mod:`gb2.server.rucio.service`)."""
