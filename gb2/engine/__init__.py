"""The local execution engine: runs DIRAC-style JDL jobs on this machine."""
