"""``DIRAC.Core`` (gb2 stand-in, not DIRAC)."""
