"""The sample catalogue every fresh embedded server starts with.

Official-looking Belle II datasets laid out as in gbasf2's naming conventions:
each dataset LPN is a Rucio CONTAINER carrying the Dataset Searcher metadata
(generic JSON keys), with one datablock ``sub00`` (a DATASET) holding 2-4
synthetic mdst/udst files of a few hundred events. Most datasets have replicas
on KEK-DATA-SE and DESY-DATA-SE; the signal MC sits on KEK-DATA-SE only. One
collection groups the generic MC datasets. Official scopes belong to ``root``.

Files are written once per process and reused from memory afterwards (they are
deterministic), so starting many servers, as the tests do, stays cheap.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gb2.data.checksum import Adler32
from gb2.data.lfn import datablock, describe_lpn, official_file_name, scope_for
from gb2.server.rucio.catalog import Catalog

log = logging.getLogger("gb2.server.rucio")

KEK, DESY = "KEK-DATA-SE", "DESY-DATA-SE"


@dataclass(frozen=True)
class SampleDataset:
    """One seeded dataset: its LPN, physics content and where its replicas are."""

    lpn: str
    event_type: str  # as understood by gb2.standin.synth ("uubar", "1111540100", "data", ...)
    n_files: int
    rses: tuple[str, ...]
    task_base: int

    @property
    def scope(self) -> str:
        return scope_for(self.lpn)

    @property
    def meta(self) -> dict[str, Any]:
        return describe_lpn(self.lpn)

    @property
    def datablocks(self) -> tuple[str, ...]:
        return (f"{self.lpn}/{datablock(0)}",)

    def files(self) -> list[tuple[str, int]]:
        """(LFN, number of events) of every file."""
        meta = self.meta
        level, prod = meta["data_level"], meta["prod_id"]
        out = []
        for seq in range(1, self.n_files + 1):
            name = official_file_name(level, seq, prod, self.task_base + seq)
            events = 150 + 50 * ((seq * 7 + prod) % 6)
            out.append((f"{self.datablocks[0]}/{name}", events))
        return out


@dataclass(frozen=True)
class SampleCollection:
    lpn: str
    datasets: tuple[str, ...]
    meta: tuple[tuple[str, Any], ...]

    @property
    def scope(self) -> str:
        return scope_for(self.lpn)


_MC = "/belle/MC/release-06-00-08/DB00002100/MC15ri_b"
UUBAR = SampleDataset(f"{_MC}/prod00025676/s00/e1003/4S/r00000/uubar/mdst", "uubar", 3, (KEK, DESY), 10020000000)
CHARGED = SampleDataset(f"{_MC}/prod00025678/s00/e1003/4S/r00000/charged/mdst", "charged", 3, (KEK, DESY), 10020000000)
SIGNAL = SampleDataset(f"{_MC}/prod00025690/s00/e1003/4S/r00000/1111540100/mdst", "1111540100", 2, (KEK,), 10020000000)
DATA = SampleDataset("/belle/Data/release-06-00-08/DB00002392/proc13/prod00029531/e0018/4S/r00000/mdst",
                     "data", 4, (KEK, DESY), 210000000)
SKIM = SampleDataset("/belle/MC/release-06-01-08/DB00002649/MC15rd_b/prod00030843/s00/e0007/4S/r00000/"
                     "uubar/14120601/udst", "uubar", 2, (KEK, DESY), 10020000000)

#: Every seeded dataset, for tests and documentation.
SAMPLE_DATASETS: tuple[SampleDataset, ...] = (UUBAR, CHARGED, SIGNAL, DATA, SKIM)

GENERIC_COLLECTION = SampleCollection(
    "/belle/collection/MC/MC15ri_generic_4S_v1",
    (UUBAR.lpn, CHARGED.lpn),
    (("data_type", "mc"), ("data_level", "mdst"), ("campaign_name", "MC15ri_b"), ("experiment", 1003),
     ("run", 0), ("beam_energy", "4S"), ("bkg_level", "BGx1"), ("release", "release-06-00-08"),
     ("global_tag", "DB00002100"),
     ("description", "Run-independent generic MC15ri_b at the Y(4S): uubar and charged"),
     ("int_luminosity", 1.0)),
)
SAMPLE_COLLECTIONS: tuple[SampleCollection, ...] = (GENERIC_COLLECTION,)

_cache: dict[str, bytes] = {}
_cache_lock = threading.Lock()


def _file_bytes(dataset: SampleDataset, lfn: str, events: int) -> bytes:
    """The deterministic content of a sample file, generated once per process."""
    with _cache_lock:
        if lfn in _cache:
            return _cache[lfn]
    from gb2.standin.synth import write_synthetic_mdst

    meta = dataset.meta
    fd, tmp = tempfile.mkstemp(suffix=".root")
    os.close(fd)
    try:
        write_synthetic_mdst(tmp, events, zlib.crc32(lfn.encode()), event_type=dataset.event_type,
                             data_level=meta["data_level"], experiment=meta["experiment"], run=meta["run"])
        data = Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)
    with _cache_lock:
        _cache[lfn] = data
    return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.seed")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _seed_dataset(cat: Catalog, ds: SampleDataset) -> None:
    scope = ds.scope
    files = []
    for lfn, events in ds.files():
        data = _file_bytes(ds, lfn, events)
        for rse in ds.rses:
            _write(cat.physical_path(rse, lfn), data)
        adler = Adler32()
        adler.update(data)
        files.append({"scope": scope, "name": lfn, "bytes": len(data), "adler32": adler.hexdigest(),
                      "meta": {"events": events}})
    for rse in ds.rses:
        cat.add_replicas(None, rse, files)
    block = ds.datablocks[0]
    cat.add_did(None, scope, ds.lpn, "CONTAINER", meta=ds.meta)
    cat.add_did(None, scope, block, "DATASET")
    cat.attach(None, [
        {"scope": scope, "name": block, "dids": [{"scope": f["scope"], "name": f["name"]} for f in files]},
        {"scope": scope, "name": ds.lpn, "dids": [{"scope": scope, "name": block}]},
    ])


def _seed_collection(cat: Catalog, coll: SampleCollection) -> None:
    cat.add_did(None, coll.scope, coll.lpn, "CONTAINER", meta=dict(coll.meta))
    cat.attach(None, [{"scope": coll.scope, "name": coll.lpn,
                       "dids": [{"scope": scope_for(lpn), "name": lpn} for lpn in coll.datasets]}])


def seed_once(cat: Catalog) -> bool:
    """Seed a fresh catalogue; a catalogue seeded before is left alone. True if seeded now."""
    if cat.state_value("seeded"):
        return False
    for ds in SAMPLE_DATASETS:
        if not cat.db.execute("SELECT 1 FROM rucio_dids WHERE scope=? AND name=?", (ds.scope, ds.lpn)):
            _seed_dataset(cat, ds)
    for coll in SAMPLE_COLLECTIONS:
        if not cat.db.execute("SELECT 1 FROM rucio_dids WHERE scope=? AND name=?", (coll.scope, coll.lpn)):
            _seed_collection(cat, coll)
    cat.set_state_value("seeded", "1")
    log.info("seeded the sample catalogue: %d datasets, %d collections", len(SAMPLE_DATASETS), len(SAMPLE_COLLECTIONS))
    return True
