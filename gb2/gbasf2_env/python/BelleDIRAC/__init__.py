"""gb2's stand-in for the part of BelleDIRAC (gbasf2's library) that b2luigi uses.

It is NOT BelleDIRAC; the calls are implemented on gb2 in :mod:`gb2.gbasf2_env.api`.
"""
