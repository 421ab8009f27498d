"""DiracX's REST routes, one module per router (mounted by :mod:`gb2.server.app`)."""
