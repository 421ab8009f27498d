"""State of one stand-in run: command-line overrides, random seed, outputs, statistics.

basf2 keeps this in its ``Environment`` singleton; the stand-in keeps it in
:data:`ENV`, set up by the command line before the steering file runs and read
by the modules and by ``process()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Environment:
    """Overrides from the command line and what the job has done so far."""

    steering_file: str = ""
    steering_text: str = ""
    input_files_override: list[str] = field(default_factory=list)
    output_file_override: str | None = None
    n_events_override: int = 0
    skip_events_override: int | None = None
    run_experiment_override: tuple[int, int] | None = None
    dry_run: bool = False
    no_stats: bool = False
    job_information: Path | None = None
    #: Seed from ``--random-seed`` (a default); ``set_random_seed`` in the steering file wins.
    random_seed: str | None = None
    processed: bool = False
    errors_before_process: int = 0
    #: ``--dry-run`` output lines (``INPUT FILE: ...`` / ``OUTPUT FILE: ...``).
    dry_run_lines: list[str] = field(default_factory=list)
    #: Counters of the last ``process()`` call.
    events_processed: int = 0
    total_events: int = 0
    runs_processed: int = 0
    module_calls: dict[str, int] = field(default_factory=dict)
    #: Particle lists created by modules initialized so far (a later module may use them).
    declared_lists: set[str] = field(default_factory=set)

    def seed(self) -> str:
        """The random seed, drawn from the system's entropy pool if nobody set one (as basf2)."""
        if self.random_seed is None:
            self.random_seed = os.urandom(8).hex()
        return self.random_seed


ENV = Environment()
