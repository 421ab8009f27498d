"""Values that change only when a project's or a job's record does (its timeline, its
dataset, a log tail), kept between the refreshes of a page."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class VersionCache:
    """Values computed for a (kind, project) and kept while the project's version is the same."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, kind: str, project: str, version: Any, compute: Callable[[], T]) -> T:
        key = (kind, project)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == version:
                self._items.move_to_end(key)
                return hit[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._items[key] = (version, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
