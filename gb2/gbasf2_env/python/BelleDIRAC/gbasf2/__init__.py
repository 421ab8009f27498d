"""``BelleDIRAC.gbasf2`` (gb2 stand-in, not BelleDIRAC)."""
