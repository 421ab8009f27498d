"""``BelleDIRAC.gbasf2.lib.ds`` (gb2 stand-in, not BelleDIRAC)."""
