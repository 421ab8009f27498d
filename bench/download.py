"""Transfer speed of gb2_ds_get and gb2_ds_put against raw loopback HTTP, measured in the same run.

    python bench/download.py [--runs 3] [--parallel 4] [--cases big,small,put]

Three cases, each timed as wall time from the command's process start to its exit
(Python start-up, login check, catalogue look-ups, planning, transfers, checksums,
manifest) against a raw baseline with the same parallelism over HTTP on 127.0.0.1:

* big:   ``gb2_ds_get`` of 1 GB in 16 files (``--big-files``, ``--big-mb``); target 90 %
* small: ``gb2_ds_get`` of 10,000 files of 100 kB (``--small-files``, ``--small-kb``); target 70 %
* put:   ``gb2_ds_put`` of 1 GB in 16 files; target 80 %

Raw: plain parallel GETs written to files (stdlib http.client, one kept-alive
connection per thread, no checksum, no verification), or plain parallel PUTs read
from files, to the same storage element of the same server. Rounds interleave raw
and gb2 (alternating which goes first) and dirty pages are flushed, untimed,
before each measurement; the ratio reported is the median of the per-round ratios
(raw seconds / gb2 seconds). Peak memory is the largest resident set of the gb2
command over the rounds (``wait4``'s ru_maxrss).

The server runs in its own process, as it does for users, with its data in
``--dest`` (default /dev/shm when it exists), where downloads land too: the
figures measure HTTP, checksumming and gb2's own work rather than the disk's
writeback, which on a shared VM varies several-fold from one run to the next.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # gb2 itself is the running interpreter's

TARGETS = {"big": 0.90, "small": 0.70, "put": 0.80}
CHUNK = 1 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="big,small,put")
    parser.add_argument("--big-files", type=int, default=16)
    parser.add_argument("--big-mb", type=int, default=64)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--small-kb", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4,
                        help="transfers at once, for raw and gb2 alike (gb2_ds_get allows 4 per storage element)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dest", type=Path, default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
                        help="where the server keeps its files and downloads land (default: /dev/shm if present)")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-xfer-", dir=args.dest))
    env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
           "GB2_DATA_DIR": str(work / "data"), "GB2_PROFILE": "bench", "GB2_SITE": ""}  # fmt: skip
    os.environ.update(env)

    from gb2 import LOGIN_SECRET_FILE
    from gb2.client.diracx import DiracX
    from gb2.client.rucio import RucioClient
    from gb2.client.tokens import TokenStore
    from gb2.config import Config, Profile
    from gb2.data.transfer import file_chunks
    from gb2.data.upload import Item, Uploader, UploadPlan
    from gb2.login import secret_approval

    server_proc = subprocess.Popen(
        [sys.executable, "-m", "gb2.server", "--port", "0", "--data-dir", str(work / "server"), "--no-engine",
         "--user", "alice"], stdout=subprocess.PIPE, text=True, cwd=work,
    )  # fmt: skip
    url = server_proc.stdout.readline().strip()
    se = "KEK-TMP-DISK-SE"
    bin_dir = Path(sys.executable).parent
    try:
        config = Config()
        config.profiles["bench"] = Profile("bench", "remote", diracx_url=url, rucio_url=f"{url}/rucio")
        config.save()
        dx = DiracX(url, TokenStore.for_profile("bench"))
        dx.login("vo:belle group:belle", secret_approval(work / "server" / LOGIN_SECRET_FILE, "alice"), interval=0.05)
        rucio = RucioClient(f"{url}/rucio", token=dx.access_token)

        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {dx.access_token()}"}

        def make_files(folder: Path, count: int, size: int) -> list[Path]:
            folder.mkdir(parents=True)
            block = os.urandom(min(size, CHUNK))
            paths = []
            for i in range(count):
                path = folder / f"out_{i:05d}_job{i + 1}_00.root"
                with open(path, "wb") as f:
                    left = size
                    while left:
                        piece = block[: min(left, len(block))]
                        f.write(i.to_bytes(4, "little") + piece[4:] if left == size else piece)
                        left -= len(piece)
                paths.append(path)
            return paths

        def publish(name: str, paths: list[Path]) -> None:
            """Register files as a dataset of alice's (through gb2's own upload code)."""
            items = [Item(f"/belle/user/alice/{name}/sub{i // 1000:02d}/{p.name}", p.stat().st_size,
                          chunks=file_chunks(p), path=p) for i, p in enumerate(paths)]  # fmt: skip
            outcome = Uploader(rucio, headers, parallel=8).run(UploadPlan(f"/belle/user/alice/{name}", items, se=se))
            assert outcome.ok, outcome.failed

        def pfn(lfn: str) -> str:
            return f"{url}/se/{se}{lfn}"

        local = threading.local()

        def connection() -> http.client.HTTPConnection:
            if getattr(local, "conn", None) is None:
                parts = urlsplit(url)
                local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            return local.conn

        def raw_get(pair: tuple[str, Path]) -> int:
            source, dest = pair
            conn = connection()
            conn.request("GET", urlsplit(source).path, headers=headers())
            response = conn.getresponse()
            assert response.status == 200, response.status
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            n = 0
            with open(dest, "wb", buffering=0) as out:
                while k := response.readinto(buffer):
                    out.write(view[:k])
                    n += k
            return n

        def raw_put(pair: tuple[Path, str]) -> int:
            source, dest = pair
            conn = connection()
            size = source.stat().st_size
            conn.putrequest("PUT", urlsplit(dest).path, skip_accept_encoding=True)
            for key, value in {**headers(), "Content-Length": str(size)}.items():
                conn.putheader(key, value)
            conn.endheaders()
            with open(source, "rb", buffering=0) as f:
                buffer = bytearray(CHUNK)
                view = memoryview(buffer)
                while k := f.readinto(buffer):
                    conn.send(view[:k])
            response = conn.getresponse()
            response.read()
            assert response.status == 201, response.status
            return size

        def parallel(fn: Callable, pairs: list) -> float:
            local.__dict__.clear()
            start = time.perf_counter()
            with ThreadPoolExecutor(args.parallel) as pool:
                sum(pool.map(fn, pairs))
            elapsed = time.perf_counter() - start
            return elapsed

        def command(argv: list[str], cwd: Path) -> tuple[float, int, str]:
            """(seconds from process start to exit, peak RSS in kB, stdout)."""
            start = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = proc.communicate()  # reaps nothing: wait4 below does
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err}{out[-2000:]}")
            return elapsed, proc_maxrss.get(proc.pid, 0), out

        proc_maxrss: dict[int, int] = {}
        _patch_wait_for_rusage(proc_maxrss)

        data = work / "data-src"
        results: dict[str, dict[str, list[float]]] = {}
        sizes: dict[str, int] = {}
        for case in cases:
            if case == "big":
                paths = make_files(data / case, args.big_files, args.big_mb << 20)
            elif case == "small":
                paths = make_files(data / case, args.small_files, args.small_kb * 1000)
            elif case == "put":
                paths = make_files(data / case, args.big_files, args.big_mb << 20)
            else:
                raise SystemExit(f"unknown case {case}")
            sizes[case] = sum(p.stat().st_size for p in paths)
            if case != "put":
                t0 = time.perf_counter()
                publish(f"bench{case}", paths)
                print(f"[{case}] registered {len(paths)} files ({sizes[case] / 1e6:.0f} MB) in "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
                shutil.rmtree(data / case)
            results[case] = {"raw": [], "gb2": [], "rss": [], "phase": []}
            listing = list(rucio.list_files("user.alice", f"/belle/user/alice/bench{case}")) if case != "put" else []
            for run in range(args.runs):
                out = work / "out"
                shutil.rmtree(out, ignore_errors=True)
                (out / "raw").mkdir(parents=True)
                (out / "cmd").mkdir()

                def raw_round(case: str = case, run: int = run, paths: list = paths, listing: list = listing,
                              out: Path = out) -> float:  # fmt: skip
                    if case == "put":
                        pairs = [(p, pfn(f"/belle/user/alice/rawput{run}/sub00/{p.name}")) for p in paths]
                        return parallel(raw_put, pairs)
                    pairs = [(pfn(f["name"]), out / "raw" / f"{i}") for i, f in enumerate(listing)]
                    return parallel(raw_get, pairs)

                def gb2_round(case: str = case, run: int = run, out: Path = out) -> float:
                    if case == "put":
                        argv = [str(bin_dir / "gb2_ds_put"), "-d", se, "-i", str(data / case), f"put{run}",
                                "--force", "--parallel", str(args.parallel)]  # fmt: skip
                    else:
                        argv = [str(bin_dir / "gb2_ds_get"), f"bench{case}", "--force", "--parallel", str(args.parallel)]
                    seconds, rss, stdout = command(argv, out / "cmd")
                    results[case]["rss"].append(rss)
                    if "MB/s)" in stdout:
                        results[case]["phase"].append(float(stdout.rsplit(" MB/s)", 1)[0].rsplit(", ", 1)[1]))
                    return seconds

                order = [("raw", raw_round), ("gb2", gb2_round)]
                for label, fn in order if run % 2 == 0 else reversed(order):
                    os.sync()
                    results[case][label].append(fn())
                print(f"[{case}] round {run + 1}: raw {results[case]['raw'][-1]:.2f} s, "
                      f"gb2 {results[case]['gb2'][-1]:.2f} s", flush=True)  # fmt: skip
            shutil.rmtree(work / "out", ignore_errors=True)

        print()
        print(f"HTTP on 127.0.0.1, {args.parallel} transfers at once, server data and downloads in {work.parent}, "
              f"{args.runs} interleaved rounds (median ratio); machine shared with other work")  # fmt: skip
        titles = {"big": f"gb2_ds_get {args.big_files} x {args.big_mb} MB",
                  "small": f"gb2_ds_get {args.small_files} x {args.small_kb} kB",
                  "put": f"gb2_ds_put {args.big_files} x {args.big_mb} MB"}  # fmt: skip
        for case in cases:
            r = results[case]
            ratios = [raw / gb2 for raw, gb2 in zip(r["raw"], r["gb2"], strict=True)]
            ratio = statistics.median(ratios)
            raw_rate = sizes[case] / statistics.median(r["raw"]) / 1e6
            gb2_rate = sizes[case] / statistics.median(r["gb2"]) / 1e6
            verdict = "meets" if ratio >= TARGETS[case] else "BELOW"
            phase = f", transfer phase {statistics.median(r['phase']):.0f} MB/s" if r["phase"] else ""
            print(f"{titles[case]:<30} raw {raw_rate:7.0f} MB/s  gb2 {gb2_rate:7.0f} MB/s  ratio {ratio * 100:5.1f} % "
                  f"({verdict} the {TARGETS[case] * 100:.0f} % target; rounds "
                  f"{', '.join(f'{x * 100:.0f}' for x in ratios)} %)  peak RSS {max(r['rss']) / 1024:.0f} MB{phase}")  # fmt: skip
    finally:
        server_proc.terminate()
        server_proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _patch_wait_for_rusage(maxrss: dict[int, int]) -> None:
    """Record each child's peak resident set: subprocess reaps children with waitpid, which
    drops their rusage, so it is made to use wait4 instead."""
    original = os.waitpid

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        if pid > 0:
            got, status, usage = os.wait4(pid, options)
            if got:
                maxrss[got] = usage.ru_maxrss
            return got, status
        return original(pid, options)

    os.waitpid = waitpid  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main())
