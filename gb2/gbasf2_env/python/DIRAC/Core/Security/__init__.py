"""``DIRAC.Core.Security`` (gb2 stand-in, not DIRAC)."""
