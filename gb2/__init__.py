"""gb2: a gbasf2-compatible grid toolkit for Belle II.

This module is imported by every command, so it must stay import-free:
heavy modules (httpx, rich, the server) are imported lazily where used.
"""

__version__ = "0.1.0"

#: The Belle II virtual organisation and its default DIRAC group (gbasf2's ``-g belle``).
VO = "belle"
DEFAULT_GROUP = "belle"
#: DiracX's public OAuth2 client id, used for the device flow.
DIRACX_CLIENT_ID = "myDIRACClientID"
#: The embedded server approves device-flow logins only from whoever presents the
#: secret in this file of its data dir (0600 in a 0700 folder), in this header.
LOGIN_SECRET_FILE = "keys/login-secret"
LOGIN_SECRET_HEADER = "X-Gb2-Login-Secret"
