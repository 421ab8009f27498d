"""The command-line layer: thin click commands over the gb2 library.

Nothing here imports click at module level except the command modules
themselves, which are imported only when a command actually runs (``--help``
is answered from a generated text; see ``commands._entry``).
"""
