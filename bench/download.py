"""Download throughput of gb2_ds_get against raw loopback HTTP, measured in the same run.

    python bench/download.py [--files 16] [--mb 64] [--parallel 8]

Registers ``--files`` random files of ``--mb`` MB in a project on the embedded
server, then fetches them three ways from the same storage element over HTTP on
127.0.0.1 with the same parallelism:

* raw to disk: plain GETs (stdlib http.client) written to files, no checksum;
* curl: ``curl -o`` in parallel, when curl is installed (an outside reference);
* the baseline is the faster of those two, since a download has to write its bytes;
* httpx in memory: httpx GETs, bytes discarded (for reference: gb2's API client);
* gb2 transfer code: :func:`gb2.data.transfer.fetch` on the same URLs (adler32 while
  streaming, temp file, verification, rename), without the Downloader around it;
* gb2 library: :class:`gb2.data.download.Downloader` (adler32 while streaming, temp
  file, fsync, verification, rename);
* gb2_ds_get: the command, as a subprocess, start-up and catalogue lookups included.

Target: gb2 at 90 % or more of the raw speed, checksums included.

Downloads land in ``--dest`` (default: a directory in /dev/shm when it exists), so
that the figures measure HTTP and checksumming rather than the disk's writeback,
which on a shared VM varies several-fold from one run to the next.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--parallel", type=int, default=4, help="transfers at once (gb2_ds_get allows 4 per storage element)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dest", type=Path, default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
                        help="where downloads land (default: /dev/shm if present, else the temp dir)")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gb2-bench-dl-"))
    out_root = Path(tempfile.mkdtemp(prefix="gb2-bench-out-", dir=args.dest)) if args.dest else work
    env = {**os.environ, "GB2_CONFIG_DIR": str(work / "config"), "GB2_CACHE_DIR": str(work / "cache"),
           "GB2_DATA_DIR": str(work / "data"), "GB2_PROFILE": "bench"}  # fmt: skip
    os.environ.update(env)

    from gb2 import LOGIN_SECRET_FILE
    from gb2.client.diracx import DiracX
    from gb2.client.rucio import RucioClient
    from gb2.client.tokens import TokenStore
    from gb2.config import Config, Profile
    from gb2.data.download import Downloader, plan_download
    from gb2.data.register import register_outputs
    from gb2.data.transfer import fetch
    from gb2.login import secret_approval

    # The server runs in its own process, as it does for users: the clients measured
    # here do not share a Python interpreter (and its GIL) with it.
    server_proc = subprocess.Popen(
        [sys.executable, "-m", "gb2.server", "--port", "0", "--data-dir", str(work / "server"), "--no-engine",
         "--user", "alice"], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = server_proc.stdout.readline().strip()
    try:
        config = Config()
        config.profiles["bench"] = Profile("bench", "remote", diracx_url=url, rucio_url=f"{url}/rucio")
        config.save()
        dx = DiracX(url, TokenStore.for_profile("bench"))
        dx.login("vo:belle group:belle", secret_approval(work / "server" / LOGIN_SECRET_FILE, "alice"), interval=0.05)
        rucio = RucioClient(f"{url}/rucio", token=dx.access_token)
        rucio.create_project("/belle/user/alice/dlbench")
        source = work / "source"
        source.mkdir()
        files = []
        for i in range(args.files):
            path = source / f"f{i:03d}.root"
            with open(path, "wb") as f:
                for _ in range(args.mb):
                    f.write(os.urandom(1 << 20))
            files.append((path, f"/belle/user/alice/dlbench/sub00/out_{i:05d}_job{i + 1}_00.root", None))
        register_outputs(rucio, "KEK-TMP-DISK-SE", files, token=dx.access_token())
        shutil.rmtree(source)
        total = args.files * args.mb * (1 << 20)
        headers = {"Authorization": f"Bearer {dx.access_token()}"}
        plan = plan_download(rucio, ["/belle/user/alice/dlbench"], "alice", out_root / "lib")
        urls = [next(u for u in item.pfns["KEK-TMP-DISK-SE"] if u.startswith("http")) for item in plan.items]
        client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=64))

        def each_url(get: Callable[[tuple[int, str]], int]) -> float:
            """Seconds to fetch every URL, ``--parallel`` at a time; every byte must arrive."""
            start = time.perf_counter()
            with ThreadPoolExecutor(args.parallel) as pool:
                assert sum(pool.map(get, enumerate(urls))) == total
            return time.perf_counter() - start

        def raw_get(pair: tuple[int, str]) -> int:
            n = 0
            with client.stream("GET", pair[1], headers=headers) as r:
                for chunk in r.iter_raw(1 << 20):
                    n += len(chunk)
            return n

        def raw() -> float:
            return each_url(raw_get)

        def raw_to_file(pair: tuple[int, str]) -> int:
            parts = urlsplit(pair[1])
            conn = http.client.HTTPConnection(parts.hostname, parts.port)
            conn.request("GET", parts.path, headers=headers)
            response = conn.getresponse()
            buffer = bytearray(1 << 20)
            view = memoryview(buffer)
            n = 0
            with open(out_root / "raw" / f"{pair[0]}", "wb", buffering=0) as out:
                while k := response.readinto(buffer):
                    out.write(view[:k])
                    n += k
            conn.close()
            return n

        def raw_disk() -> float:
            shutil.rmtree(out_root / "raw", ignore_errors=True)
            (out_root / "raw").mkdir()
            return each_url(raw_to_file)

        def curl() -> float:
            shutil.rmtree(out_root / "curl", ignore_errors=True)
            (out_root / "curl").mkdir()
            listing = "".join(f'url = "{u}"\noutput = "{i}"\n' for i, u in enumerate(urls))
            start = time.perf_counter()
            subprocess.run(["curl", "-s", "--fail", "--parallel", "--parallel-max", str(args.parallel),
                            "-H", f"Authorization: {headers['Authorization']}", "-K", "-"], input=listing,
                           text=True, cwd=out_root / "curl", check=True)  # fmt: skip
            return time.perf_counter() - start

        def transfer_only(pair: tuple[int, str]) -> int:
            item = plan.items[pair[0]]
            return fetch(pair[1], out_root / "xfer" / f"{pair[0]}", size=item.bytes, adler32=item.adler32,
                         headers=headers).bytes  # fmt: skip

        def transfers() -> float:
            return each_url(transfer_only)

        def library() -> float:
            shutil.rmtree(out_root / "lib", ignore_errors=True)
            start = time.perf_counter()
            outcome = Downloader(lambda: headers, parallel=args.parallel, per_se=args.parallel).run(plan)
            elapsed = time.perf_counter() - start
            assert outcome.ok and len(outcome.downloaded) == args.files
            return elapsed

        transfer_rates: list[float] = []

        def command() -> float:
            target = out_root / "cmd"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            start = time.perf_counter()
            proc = subprocess.run([str(Path(sys.executable).parent / "gb2_ds_get"), "dlbench", "--force",
                                   "--parallel", str(args.parallel)], cwd=target, env=env, capture_output=True, text=True)  # fmt: skip
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            # The command's own figure for its transfer phase ("..., 123.4 MB/s)").
            transfer_rates.append(float(proc.stdout.rsplit(" MB/s)", 1)[0].rsplit(", ", 1)[1]))
            return elapsed

        raw()  # warm the page cache and the connections
        results = {}
        ways = [("raw GET to disk", raw_disk)]
        if shutil.which("curl"):
            ways.append(("curl -o (parallel)", curl))
        ways += [("httpx GET in memory", raw), ("gb2 transfer code (verified)", transfers),
             ("gb2 library (verified)", library), ("gb2_ds_get command", command)]
        # Rounds interleave the ways, and dirty pages are flushed (untimed) before each
        # measurement, so that no way pays for the writeback of another's files.
        best: dict[str, float] = {}
        for _ in range(args.runs):
            for label, fn in ways:
                for leftover in ("raw", "curl", "xfer", "lib", "cmd"):
                    shutil.rmtree(out_root / leftover, ignore_errors=True)
                os.sync()
                best[label] = min(best.get(label, float("inf")), fn())
        for label, _ in ways:
            results[label] = total / best[label] / 1e6
        print(f"{args.files} files x {args.mb} MB = {total / 1e6:.0f} MB over HTTP on 127.0.0.1, {args.parallel} in parallel,"
              f" into {out_root.parent} (best of {args.runs})")  # fmt: skip
        results["gb2_ds_get transfer phase"] = max(transfer_rates)
        base = max(results["raw GET to disk"], results.get("curl -o (parallel)", 0.0))
        print(f"baseline: the faster of raw GET to disk and curl: {base:.0f} MB/s")
        for label, rate in results.items():
            print(f"{label:<28} {rate:8.0f} MB/s  {rate / base * 100:5.1f} % of the baseline")
        print("(gb2_ds_get command: wall time from process start, including login check, catalogue lookup and"
              " planning; transfer phase: the rate the command reports for its transfers)")  # fmt: skip
    finally:
        server_proc.terminate()
        server_proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
