"""Modules and paths: the objects a steering file builds, with basf2's checks and messages.

A :class:`Module` carries typed parameters (unknown names and wrong types are
logged as ERRORs, which later stop ``process()``, as in basf2), a return value
and conditions that branch into other paths. Stand-in module types subclass it
and are looked up by name in :mod:`gb2.standin.modules`; an unknown name logs
basf2's ERROR and raises :class:`ModuleNotCreatedError`.
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from gb2.standin.b2log import B2ERROR, LOG, LogLevel


class ModuleNotCreatedError(RuntimeError):
    """This exception is raised when a basf2 module could not be created for any reason."""


ModuleNotCreatedError.__module__ = "basf2"


class AfterConditionPath(enum.Enum):
    """What happens after a condition path ran: stop the event's path, or continue it."""

    END = 0
    CONTINUE = 1


@dataclass(frozen=True)
class Param:
    """A module parameter: default value and a one-line description."""

    default: Any
    description: str = ""


@dataclass
class ParamInfo:
    """What ``Module.available_params()`` returns for one parameter."""

    name: str
    default: Any
    values: Any
    description: str
    setInSteering: bool  # noqa: N815 - basf2's attribute name


_CONDITION_RE = re.compile(r"^\s*(<=|>=|!=|<|>|=)\s*(-?\d+)\s*$")
_CONDITION_OPS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}


@dataclass
class Condition:
    expression: str
    compare: Callable[[int], bool]
    path: Path
    after: AfterConditionPath


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def _compatible(default: Any, value: Any) -> bool:
    """Whether ``value`` fits a parameter whose default is ``default`` (ints fit floats)."""
    if default is None:
        return True
    want, got = _type_name(default), _type_name(value)
    return want == got or (want == "float" and got == "int")


class Module:
    """A basf2 module: the base of every stand-in module and of Python modules in steering files."""

    #: Parameters of the module type (name -> Param); subclasses extend it.
    PARAMS: ClassVar[dict[str, Param]] = {}
    DESCRIPTION: ClassVar[str] = "Python module"
    #: True for modules that create events (RootInput, EventInfoSetter): basf2's "master".
    PROVIDES_EVENTS: ClassVar[bool] = False

    def __init__(self) -> None:
        self._type = type(self).__name__
        self._name = self._type
        self._b2_values: dict[str, Any] = {k: _copy(p.default) for k, p in self.PARAMS.items()}
        self._b2_set: set[str] = set()
        self._b2_conditions: list[Condition] = []
        self._return_value: int | None = None
        self._b2_log_level = LogLevel.default

    # --- identity -------------------------------------------------------------
    def name(self) -> str:
        return self._name

    def type(self) -> str:
        return self._type

    def set_name(self, name: str) -> None:
        self._name = name

    def set_log_level(self, level: LogLevel) -> None:
        self._b2_log_level = level

    def set_debug_level(self, level: int) -> None:
        """Accepted; the stand-in prints no debug messages."""

    def __repr__(self) -> str:
        return f"<Module {self._name} ({self._type})>"

    # --- parameters ----------------------------------------------------------
    def param(self, key: str | dict[str, Any], value: Any = None) -> None:
        """Set one parameter, or several from a dict, with basf2's error messages."""
        items = key.items() if isinstance(key, dict) else [(key, value)]
        for name, val in items:
            self._set_param(name, val)

    def _set_param(self, name: str, value: Any) -> None:
        if name not in self.PARAMS:
            self._error(
                f"Could not find the parameter with the name '{name}'! "
                "The value of the parameter could NOT be set."
            )
            return
        if isinstance(value, tuple):
            value = list(value)
        if not _compatible(self.PARAMS[name].default, value):
            self._error(
                f"The type of the module parameter '{name}' ({_type_name(self.PARAMS[name].default)}) "
                f"is different from the type of the value it should be set to ({_type_name(value)})!"
            )
            return
        self._b2_values[name] = value
        self._b2_set.add(name)

    def _error(self, message: str) -> None:
        previous, LOG.module = LOG.module, self._name
        try:
            B2ERROR(message)
        finally:
            LOG.module = previous

    def get(self, name: str) -> Any:
        """The current value of a parameter (for the stand-in's own code)."""
        return self._b2_values[name]

    def was_set(self, name: str) -> bool:
        return name in self._b2_set

    def available_params(self) -> list[ParamInfo]:
        return [
            ParamInfo(n, p.default, self._b2_values[n], p.description, n in self._b2_set)
            for n, p in self.PARAMS.items()
        ]

    # --- conditions ---------------------------------------------------------
    def if_value(
        self,
        expression: str,
        condition_path: Path,
        after_condition_path: AfterConditionPath = AfterConditionPath.END,
    ) -> None:
        """Run ``condition_path`` when the return value matches ``expression`` (e.g. ``'<1'``)."""
        match = _CONDITION_RE.match(expression)
        if not match:
            raise ValueError(
                f"Invalid condition expression {expression!r} (use e.g. '<1', '=1', '>=2')"
            )
        op, number = _CONDITION_OPS[match.group(1)], int(match.group(2))
        self._b2_conditions.append(
            Condition(expression, lambda v: op(v, number), condition_path, after_condition_path)
        )

    def if_false(
        self,
        condition_path: Path,
        after_condition_path: AfterConditionPath = AfterConditionPath.END,
    ) -> None:
        self.if_value("<1", condition_path, after_condition_path)

    def if_true(
        self,
        condition_path: Path,
        after_condition_path: AfterConditionPath = AfterConditionPath.END,
    ) -> None:
        self.if_value(">=1", condition_path, after_condition_path)

    def has_condition(self) -> bool:
        return bool(self._b2_conditions)

    def get_all_condition_paths(self) -> list[Path]:
        return [c.path for c in self._b2_conditions]

    def conditions(self) -> list[Condition]:
        return list(self._b2_conditions)

    # --- processing (overridden by module types) -----------------------------
    def return_value(self, value: int | bool) -> None:
        self._return_value = int(value)

    def initialize(self) -> None:
        """Check parameters, prepare; log ERRORs for problems (processing then will not start)."""

    def beginRun(self) -> None:  # noqa: N802 - basf2's method name
        """Called at the start of each run."""

    def event(self) -> None:
        """Called once per event."""

    def endRun(self) -> None:  # noqa: N802
        """Called at the end of each run."""

    def terminate(self) -> None:
        """Called once after the last event: outputs are written here."""


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class Path:
    """An ordered list of modules (and sub-paths) executed for every event."""

    def __init__(self) -> None:
        self._modules: list[Module] = []

    def add_module(
        self,
        module: Module | str,
        logLevel: LogLevel | None = None,  # noqa: N803
        debugLevel: int | None = None,
        **kwargs: Any,
    ) -> Module:  # noqa: N803
        """Add a module (object or type name); extra keyword arguments are module parameters."""
        module = register_module(module, logLevel=logLevel, debugLevel=debugLevel, **kwargs)
        self._modules.append(module)
        return module

    def add_path(self, path: Path) -> None:
        """Append the modules of another path."""
        self._modules.extend(path.modules())

    def add_independent_path(
        self, skim_path: Path, ds_ID: str = "", merge_back_event: list | None = None
    ) -> None:  # noqa: N803
        """Run ``skim_path`` on a copy of the event, so it cannot change this path's data."""
        from gb2.standin.modules.flow import IndependentPath

        module = IndependentPath(skim_path, ds_ID)
        self._modules.append(module)

    def modules(self) -> list[Module]:
        return list(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __str__(self) -> str:
        return "[" + " -> ".join(m.name() for m in self._modules) + "]"


def walk(path: Path) -> Iterator[Module]:
    """Every module reachable from ``path`` (condition and independent paths too), once each."""
    seen: set[int] = set()

    def visit(p: Path) -> Iterator[Module]:
        for module in p:
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            for sub in module.get_all_condition_paths() + list(
                getattr(module, "sub_paths", lambda: [])()
            ):
                yield from visit(sub)

    yield from visit(path)


def register_module(
    name_or_module: Module | str,
    shared_lib_path: str | None = None,
    logLevel: LogLevel | None = None,
    debugLevel: int | None = None,  # noqa: N803
    **kwargs: Any,
) -> Module:
    """Create a module by type name (or take a module object) and set its parameters."""
    if isinstance(name_or_module, Module):
        module = name_or_module
    else:
        from gb2.standin.modules import create

        module = create(str(name_or_module))
    if kwargs:
        module.param(kwargs)
    if logLevel is not None:
        module.set_log_level(logLevel)
    if debugLevel is not None:
        module.set_debug_level(debugLevel)
    return module
