"""``BelleDIRAC.gbasf2.lib.job`` (gb2 stand-in, not BelleDIRAC)."""
