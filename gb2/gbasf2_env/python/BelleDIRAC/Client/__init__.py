"""``BelleDIRAC.Client`` (gb2 stand-in, not BelleDIRAC)."""
