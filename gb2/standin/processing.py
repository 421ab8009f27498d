"""``process(path)``: initialize the modules, run the event loop, terminate, as basf2 does.

The rules follow basf2's Framework/EventProcessor: ERRORs logged before or during
initialization stop processing with the FATAL message ``N ERROR(S) occurred! The
processing of events will not be started.``; a path needs a module that creates
events (RootInput or EventInfoSetter); a condition path with
``AfterConditionPath.END`` ends the event.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gb2.standin import datastore, ntuples
from gb2.standin.b2log import B2ERROR, B2FATAL, B2INFO, B2WARNING, LOG, LogLevel
from gb2.standin.cuts import CutError
from gb2.standin.decaystring import DecayStringError
from gb2.standin.framework import AfterConditionPath, Module, Path, walk
from gb2.standin.jobinfo import JOB_INFO
from gb2.standin.runtime import ENV


class _InModule:
    """Context manager: log messages inside it name the module (``{ module: X }``)."""

    def __init__(self, module: Module) -> None:
        self.module = module

    def __enter__(self) -> None:
        self.previous, LOG.module = LOG.module, self.module.name()

    def __exit__(self, *exc: object) -> None:
        LOG.module = self.previous


def run_path(path: Path) -> bool:
    """Run ``path`` on the current event; True if a condition ended the event."""
    for module in path:
        module._return_value = None
        with _InModule(module):
            module.event()
        ENV.module_calls[module.name()] = ENV.module_calls.get(module.name(), 0) + 1
        value = module._return_value
        if value is None or not module.has_condition():
            continue
        for condition in module.conditions():
            if condition.compare(value):
                if run_path(condition.path) or condition.after is AfterConditionPath.END:
                    return True
                break
    return False


def _check_errors() -> None:
    errors = LOG.count(LogLevel.ERROR)
    if errors != ENV.errors_before_process:
        B2FATAL(f"{errors} ERROR(S) occurred! The processing of events will not be started.")


def _initialize(modules: list[Module]) -> None:
    for module in modules:
        with _InModule(module):
            try:
                module.initialize()
            except (CutError, DecayStringError) as e:
                B2ERROR(str(e))


def _dry_run(modules: list[Module]) -> None:
    """``--dry-run``: remember which files would be read and written (printed at exit)."""
    for module in modules:
        describe = getattr(module, "dry_run_lines", None)
        if describe is not None:
            ENV.dry_run_lines.extend(describe())


def process(path: Path, max_event: int = 0) -> None:
    """Process events through ``path`` (at most ``max_event`` if > 0; ``-n`` also limits)."""
    modules = list(walk(path))
    if ENV.dry_run:
        _dry_run(modules)
        return
    if ENV.processed:
        B2WARNING(
            "Calling process() more than once per steering file is still experimental, "
            "please check results carefully!"
        )
    _check_errors()
    ENV.processed = True
    ntuples.reset()
    _initialize(modules)
    master = next((m for m in modules if m.PROVIDES_EVENTS), None)
    if master is None:
        B2ERROR(
            "There is no module that provides event and run numbers. You must either add the "
            "EventInfoSetter module to your path, or, if using an input module, read "
            "EventMetaData objects from file."
        )
    _check_errors()
    assert master is not None
    limits = [n for n in (max_event, ENV.n_events_override) if n > 0]
    limit = min(limits) if limits else 0
    ENV.total_events = master.expected_events(limit)  # type: ignore[attr-defined]
    JOB_INFO.status("running event loop")
    _event_loop(path, master.next_events(), limit)  # type: ignore[attr-defined]
    for module in modules:
        with _InModule(module):
            module.terminate()
    ntuples.write_all()
    ENV.errors_before_process = LOG.count(LogLevel.ERROR)
    JOB_INFO.set_module_calls(ENV.module_calls)


def _event_loop(path: Path, source: Iterator[dict[str, Any]], limit: int) -> None:
    runs: set[tuple[int, int]] = set()
    for raw in source:
        if limit and ENV.events_processed >= limit:
            break
        runs.add((raw.get("experiment", 0), raw.get("run", 0)))
        store = datastore.EventStore(raw)
        datastore.push(store)
        try:
            run_path(path)
        finally:
            datastore.pop()
        ENV.events_processed += 1
    ENV.runs_processed += len(runs)
    B2INFO(f"Processed {ENV.events_processed} events")


class Statistics:
    """``basf2.statistics``: module calls of the last ``process()``, printable."""

    def __str__(self) -> str:
        width = max([len(n) for n in ENV.module_calls] + [4])
        lines = ["=" * (width + 12), f"{'Name':<{width}} | {'Calls':>8}", "=" * (width + 12)]
        lines += [f"{name:<{width}} | {calls:>8}" for name, calls in ENV.module_calls.items()]
        lines.append("=" * (width + 12))
        return "\n".join(lines)

    def __call__(self) -> str:
        return str(self)


STATISTICS = Statistics()
