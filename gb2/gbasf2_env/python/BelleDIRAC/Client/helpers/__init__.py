"""``BelleDIRAC.Client.helpers`` (gb2 stand-in, not BelleDIRAC)."""
