"""The filters of the web view, read from and written to the URL.

Keeping them in the query string means a reload, a bookmark or a shared link shows
the same view. Each filter can be negated ("NOT"), which DIRAC's web portal cannot.

* project list: ``name`` (a glob such as ``ana*``, else a case-insensitive
  substring), ``status`` (repeatable: Scouting, Running, Done, Failed), ``not_name``
  and ``not_status`` (``1`` negates that filter), ``days`` (default 30);
* a project's job table: ``jstatus`` (repeatable: DIRAC statuses), ``not_jstatus``,
  ``page``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from gb2.jobs.states import ALL_STATES

PROJECT_STATES = ("Scouting", "Running", "Done", "Failed")
DEFAULT_DAYS = 30
MAX_DAYS = 3650


def _flag(params: QueryParams, key: str) -> bool:
    return params.get(key, "") in ("1", "on", "true", "yes")


def _choices(values: Iterable[str], allowed: Iterable[str]) -> tuple[str, ...]:
    known = {a.lower(): a for a in allowed}
    return tuple(dict.fromkeys(known[v.lower()] for v in values if v.lower() in known))


def _int(text: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(text))) if text else default
    except ValueError:
        return default


def name_matches(pattern: str, name: str) -> bool:
    text = pattern.strip().lower()
    if not text:
        return True
    if any(c in text for c in "*?["):
        return fnmatch.fnmatchcase(name.lower(), text)
    return text in name.lower()


@dataclass(frozen=True)
class ProjectFilter:
    name: str = ""
    not_name: bool = False
    statuses: tuple[str, ...] = ()
    not_status: bool = False
    days: int = DEFAULT_DAYS

    @classmethod
    def from_query(cls, params: QueryParams) -> ProjectFilter:
        return cls(
            name=params.get("name", "")[:200],
            not_name=_flag(params, "not_name"),
            statuses=_choices(params.getlist("status"), PROJECT_STATES),
            not_status=_flag(params, "not_status"),
            days=_int(params.get("days"), DEFAULT_DAYS, 1, MAX_DAYS),
        )

    @property
    def active(self) -> bool:
        return bool(self.name.strip() or self.statuses)

    def matches(self, name: str, state: str) -> bool:
        if self.name.strip() and name_matches(self.name, name) == self.not_name:
            return False
        return not self.statuses or (state in self.statuses) != self.not_status

    def query(self) -> str:
        items: list[tuple[str, Any]] = []
        if self.name:
            items.append(("name", self.name))
        if self.not_name:
            items.append(("not_name", "1"))
        items += [("status", s) for s in self.statuses]
        if self.not_status:
            items.append(("not_status", "1"))
        if self.days != DEFAULT_DAYS:
            items.append(("days", self.days))
        return urlencode(items)


@dataclass(frozen=True)
class JobFilter:
    statuses: tuple[str, ...] = ()
    negate: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, params: QueryParams) -> JobFilter:
        return cls(_choices(params.getlist("jstatus"), ALL_STATES), _flag(params, "not_jstatus"),
                   _int(params.get("page"), 1, 1, 1_000_000))  # fmt: skip

    def conditions(self) -> list[dict[str, Any]]:
        if not self.statuses:
            return []
        return [{"parameter": "Status", "operator": "not in" if self.negate else "in", "values": list(self.statuses)}]

    def query(self, page: int | None = None) -> str:
        items: list[tuple[str, Any]] = [("jstatus", s) for s in self.statuses]
        if self.negate:
            items.append(("not_jstatus", "1"))
        if (page or self.page) != 1:
            items.append(("page", page or self.page))
        return urlencode(items)
