"""``basf2`` as gb2's stand-in provides it: paths, modules, processing, logging.

This is NOT basf2. It is the part of basf2's Python interface that common
steering files use, implemented over gb2's stand-in modules (see
``python -m gb2.standin -m`` for the module list). Conditions-database settings
are accepted and have no effect. ``basf2.pickle_path`` saves a path to a file and
reads it back (b2luigi's default gbasf2 route).
"""

from __future__ import annotations

import os
from typing import Any

from gb2.standin import STANDIN_VERSION
from gb2.standin import processing as _processing
from gb2.standin.b2log import (
    B2DEBUG,
    B2ERROR,
    B2FATAL,
    B2INFO,
    B2RESULT,
    B2WARNING,
    LogLevel,
)
from gb2.standin.b2log import (
    LOG as _LOG,
)
from gb2.standin.framework import (
    AfterConditionPath,
    Module,
    ModuleNotCreatedError,
    Path,
    register_module,
)
from gb2.standin.runtime import ENV as _ENV

__all__ = [
    "AfterConditionPath",
    "B2DEBUG",
    "B2ERROR",
    "B2FATAL",
    "B2INFO",
    "B2RESULT",
    "B2WARNING",
    "LogLevel",
    "Module",
    "ModuleNotCreatedError",
    "Path",
    "conditions",
    "create_path",
    "find_file",
    "get_random_seed",
    "logging",
    "print_path",
    "process",
    "register_module",
    "set_log_level",
    "set_random_seed",
    "statistics",
]

basf2label = f"gb2 basf2 stand-in {STANDIN_VERSION} (not basf2)"

#: Module call statistics of the last ``process()`` call (``print(basf2.statistics)``).
statistics = _processing.STATISTICS


def create_path() -> Path:
    """A new, empty path (same as ``basf2.Path()``)."""
    return Path()


def process(path: Path, max_event: int = 0) -> None:
    """Process the events of ``path``; ``max_event`` > 0 limits their number."""
    if path is None:
        return
    if not _ENV.dry_run:
        B2INFO(f"Starting event processing, random seed is set to '{get_random_seed()}'")
    _processing.process(path, max_event)


def set_random_seed(seed: Any) -> None:
    """Seed for all random numbers (takes precedence over ``--random-seed``)."""
    _ENV.random_seed = str(seed)


def get_random_seed() -> str:
    return _ENV.seed()


def set_log_level(level: LogLevel) -> None:
    """Global log level (``-l`` on the command line takes precedence)."""
    _LOG.set_level(LogLevel(level))


class _Logging:
    """``basf2.logging``, basf2's global log settings, as far as the stand-in has them."""

    @property
    def log_level(self) -> LogLevel:
        return _LOG.level

    @log_level.setter
    def log_level(self, level: LogLevel) -> None:
        set_log_level(level)


logging = _Logging()


def print_path(path: Path, defaults: bool = False, description: bool = False, indentation: int = 0,
               title: bool = True) -> None:  # fmt: skip
    """The modules of ``path`` with the parameters set in the steering file (``defaults``: all)."""
    pad = " " * indentation
    if title:
        print(f"{pad}Modules and parameter settings in the path")
        print(f"{pad}" + "=" * 42)
    for index, module in enumerate(path.modules()):
        print(f"{pad}{index:>3}  {module.name()} ({module.type()})")
        for info in module.available_params():
            if defaults or info.setInSteering:
                print(f"{pad}       {info.name} = {info.values!r}")
        for sub in module.get_all_condition_paths() + list(getattr(module, "sub_paths", lambda: [])()):
            print_path(sub, defaults, description, indentation + 7, title=False)


def set_debug_level(level: int) -> None:
    """Accepted; the stand-in prints no debug messages."""


def log_to_file(filename: str, append: bool = False) -> None:
    """Accepted; the stand-in always logs to standard output."""
    B2WARNING("log_to_file() is not supported by gb2's basf2 stand-in; logging to standard output")


def set_nprocesses(nproc: int) -> None:
    """Accepted; the stand-in always processes in one process."""


def get_nprocesses() -> int:
    return 0


def set_module_parameters(
    path: Path,
    name: str | None = None,
    type: str | None = None,  # noqa: A002
    recursive: bool = False,
    **kwargs: Any,
) -> None:
    """Set parameters of all modules in ``path`` with the given name and/or type."""
    if name is None and type is None:
        raise ValueError("At least one of name or type has to be given")
    if not kwargs:
        raise ValueError("no module parameters given")
    found = False
    for module in path.modules():
        if (name is None or module.name() == name) and (type is None or module.type() == type):
            register_module(module, **kwargs)
            found = True
        if recursive:
            for sub in module.get_all_condition_paths():
                try:
                    set_module_parameters(sub, name, type, recursive, **kwargs)
                    found = True
                except KeyError:
                    pass
    if not found:
        raise KeyError("No module with given name found anywhere in the path")


def find_file(filename: str, data_type: str = "", silent: bool = False) -> str:
    """Find a file like basf2: release directories (or the examples/validation data dirs), then here."""
    roots = {
        "": [os.environ.get("BELLE2_LOCAL_DIR"), os.environ.get("BELLE2_RELEASE_DIR")],
        "examples": [os.environ.get("BELLE2_EXAMPLES_DATA_DIR")],
        "validation": [os.environ.get("BELLE2_VALIDATION_DATA_DIR")],
    }.get(data_type.lower())
    if roots is None:
        raise ValueError(f"unknown data_type {data_type!r}")
    for root in [r for r in roots if r] + [os.getcwd()]:
        candidate = os.path.join(root, filename)
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    if silent:
        return ""
    import errno

    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), filename)


class _Conditions:
    """``basf2.conditions``: accepted so steering files run; the stand-in reads no payloads."""

    def __init__(self) -> None:
        self.globaltags: list[str] = []
        self.metadata_providers: list[str] = []
        self.payload_locations: list[str] = []
        self.testing_payloads: list[str] = []

    def prepend_globaltag(self, name: str) -> None:
        self.globaltags.insert(0, name)

    def append_globaltag(self, name: str) -> None:
        self.globaltags.append(name)

    def override_globaltags(self, globaltags: list[str] | None = None) -> None:
        if globaltags is not None:
            self.globaltags = list(globaltags)

    def prepend_testing_payloads(self, filename: str) -> None:
        self.testing_payloads.insert(0, filename)

    def append_testing_payloads(self, filename: str) -> None:
        self.testing_payloads.append(filename)

    def expert_settings(self, **kwargs: Any) -> dict[str, Any]:
        return dict(kwargs)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


conditions = _Conditions()
