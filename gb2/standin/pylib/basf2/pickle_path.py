"""``basf2.pickle_path`` (stand-in): a path saved to a pickle file and read back.

The pickled object is a dict of built-in types (see :mod:`gb2.standin.serialize`);
callers may add keys to it, as b2luigi adds its aliases, global tags and log level.
"""

from __future__ import annotations

import pickle
from typing import Any

from gb2.standin.framework import Path
from gb2.standin.serialize import (
    deserialize_module,
    deserialize_path,
    serialize_module,
    serialize_path,
)

__all__ = [
    "deserialize_module",
    "deserialize_path",
    "get_path_from_file",
    "serialize_module",
    "serialize_path",
    "write_path_to_file",
]


def write_path_to_file(path: Path, filename: str) -> None:
    with open(filename, "wb") as f:
        pickle.dump(serialize_path(path), f)


def get_path_from_file(path_filename: str) -> Path:
    with open(path_filename, "rb") as f:
        data: dict[str, Any] = pickle.load(f)
    return deserialize_path(data)
