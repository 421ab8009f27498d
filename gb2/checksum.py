"""Checksums used by the grid: adler32 for data files (Rucio/DIRAC), sha256 for sandboxes."""

from __future__ import annotations

import zlib
from pathlib import Path

CHUNK = 1 << 20


class Adler32:
    """Incremental adler32, formatted as the catalogue stores it (8 lowercase hex digits)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 1

    def update(self, data: bytes | memoryview) -> None:
        self.value = zlib.adler32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value & 0xFFFFFFFF:08x}"


def adler32_file(path: Path | str) -> str:
    a = Adler32()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            a.update(chunk)
    return a.hexdigest()


def normalise_adler32(value: str | int | None) -> str | None:
    """Catalogues differ in zero-padding and case; compare on one form."""
    if value is None:
        return None
    if isinstance(value, int):
        return f"{value & 0xFFFFFFFF:08x}"
    return value.strip().lower().rjust(8, "0")
