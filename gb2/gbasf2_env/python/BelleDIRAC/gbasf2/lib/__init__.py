"""``BelleDIRAC.gbasf2.lib`` (gb2 stand-in, not BelleDIRAC)."""
