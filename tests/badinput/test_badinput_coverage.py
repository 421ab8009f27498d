"""The tables cover every command the registry lists, with at least 250 cases in all.

``python -m pytest tests/badinput/test_badinput_coverage.py -s`` prints the count per command.
"""

from __future__ import annotations

from collections import Counter

from commands._registry import TOOLS
from tests.badinput import (
    test_badinput_data,
    test_badinput_datatools,
    test_badinput_jobs,
    test_badinput_setup,
    test_badinput_submit,
)

TABLES = (test_badinput_submit.CASES, test_badinput_jobs.CASES, test_badinput_data.CASES, test_badinput_datatools.CASES,
          test_badinput_setup.CASES)


def counts() -> Counter[str]:
    return Counter(param.values[0].tool for table in TABLES for param in table)


def test_every_command_has_bad_input_cases():
    per_tool = counts()
    print("\n" + "\n".join(f"{tool:<22} {per_tool[tool]}" for tool in TOOLS) + f"\n{'total':<22} {sum(per_tool.values())}")
    assert set(TOOLS) <= set(per_tool), f"no bad-input case for {sorted(set(TOOLS) - set(per_tool))}"
    assert sum(per_tool.values()) >= 250
    ids = [param.id for table in TABLES for param in table]
    assert len(ids) == len(set(ids)), "two cases share an id"
