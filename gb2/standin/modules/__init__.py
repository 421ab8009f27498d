"""The module types the stand-in provides, looked up by basf2 module name.

Only these names can be created; any other name fails the way basf2 fails: an
ERROR ``Cannot create module <name>: The module is not known to the framework!``
and a ``basf2.ModuleNotCreatedError`` exception.
"""

from __future__ import annotations

from gb2.standin.b2log import B2ERROR
from gb2.standin.framework import Module, ModuleNotCreatedError


def registry() -> dict[str, type[Module]]:
    """Module type name -> class (imported lazily: ``import gb2.standin`` stays cheap)."""
    from gb2.standin.modules import analysis, flow, generation, io

    types: dict[str, type[Module]] = {}
    for source in (io, generation, analysis, flow):
        for cls in getattr(source, "MODULES", ()):
            types[cls.__name__] = cls
    return types


def create(name: str) -> Module:
    """A new module of type ``name``, or basf2's error for unknown names."""
    cls = registry().get(name)
    if cls is None:
        message = f"Cannot create module {name}: The module is not known to the framework!"
        B2ERROR(message)
        raise ModuleNotCreatedError(message)
    return cls()
