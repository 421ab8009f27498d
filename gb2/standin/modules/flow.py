"""Modules that steer the flow of events: return values, skim filters, independent paths."""

from __future__ import annotations

import math

from gb2.standin import datastore
from gb2.standin.b2log import B2ERROR
from gb2.standin.cuts import Context, CutError, compile_expression
from gb2.standin.framework import Module, Param, Path


class VariableToReturnValue(Module):
    """Set the module's return value to an (event) variable, e.g. ``passesEventCut(...)``."""

    DESCRIPTION = "Calculate an event-based variable and set it as the module's return value"
    PARAMS = {
        "variable": Param("", "event variable whose (integer) value becomes the return value")
    }

    def initialize(self) -> None:
        try:
            self._expr = compile_expression(self.get("variable"))
        except CutError as e:
            B2ERROR(str(e))

    def event(self) -> None:
        value = self._expr(Context(datastore.current()))
        self.return_value(0 if math.isnan(value) else int(value))


class SkimFilter(Module):
    """Return 1 if any of the given particle lists (or their conjugates) is not empty."""

    DESCRIPTION = "Filter events with at least one candidate in any of the given particle lists"
    PARAMS = {"particleLists": Param([], "lists to check")}

    def event(self) -> None:
        from gb2.standin.decaystring import DecayStringError, parse_list_name

        store = datastore.current()
        found = False
        for name in self.get("particleLists"):
            try:
                names = {name, parse_list_name(name).conjugate().full}
            except DecayStringError:
                names = {name}
            found = found or any(store.lists.get(n) for n in names)
        self.return_value(1 if found else 0)


class ProgressBar(Module):
    """Accepted for compatibility; the stand-in prints no progress bar."""

    DESCRIPTION = "Progress bar (no-op in the stand-in)"


class Progress(Module):
    """Accepted for compatibility; the stand-in prints no progress messages."""

    DESCRIPTION = "Progress messages (no-op in the stand-in)"
    PARAMS = {"maxN": Param(3, "maximum power of 10 for the output interval")}


class IndependentPath(Module):
    """Runs a path on a copy of the event (``Path.add_independent_path``); not creatable by name."""

    DESCRIPTION = "Independent path"

    def __init__(self, path: Path | None = None, ds_id: str = "") -> None:
        super().__init__()
        self._path = path or Path()
        self.ds_id = ds_id
        self._type = "SubEvent"
        self.set_name(f"IndependentPath{('_' + ds_id) if ds_id else ''}")

    def sub_paths(self) -> list[Path]:
        return [self._path]

    def event(self) -> None:
        from gb2.standin.processing import run_path

        copy = datastore.current().copy()
        datastore.push(copy)
        try:
            run_path(self._path)
        finally:
            datastore.pop()


MODULES = [VariableToReturnValue, SkimFilter, ProgressBar, Progress]
