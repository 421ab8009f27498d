"""``DIRAC.Core.Base`` (gb2 stand-in, not DIRAC)."""
