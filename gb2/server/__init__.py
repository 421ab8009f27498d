"""The embedded server: DiracX- and Rucio-compatible routes over a local engine.

Never imported from the command-line path of ordinary commands: it pulls in
Starlette, uvicorn and cryptography.
"""
