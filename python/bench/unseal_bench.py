"""Python unseal throughput (MiB/s) of one large sealed file next to a plain copy of the same file on the same
disk in the same run, plus peak RSS per operation; one JSON object per line, as ``npm run bench`` prints
(bench/lib.mjs: name, value, unit, and ceiling + ratio where they apply). Each operation runs in its own
child process so its RSS is its own; the copy has the same I/O shape as ``unseal_file`` (1 MiB pieces, fsync
before rename), so the ratio is crypto + framing. The input is generated here, at bench time, and removed.

    python python/bench/unseal_bench.py [--size-mib 512] [--repetitions 3] [--quick]

Target: unseal ≥ 0.5 × copy."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

MiB = 1024 * 1024
DATA_KEY = bytes.fromhex("5f" * 32)
FIELDS: dict[str, Any] = {"key_id": "bench-model", "key_version": 1, "wrapped_data_key": "bench.wrapped.data.key"}
TARGET = 0.5
RSS_CEILING_MIB = 200


def child(op: str, src: str, dst: str) -> None:
    """One operation in this process; prints {seconds, rssMiB, cpuSeconds}."""
    from keyward.sealed import seal_file, unseal_file, write_file_atomically

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    if op == "copy":

        def copy(out: Any) -> None:
            with open(src, "rb", buffering=0) as f:
                buffer = bytearray(MiB)
                view = memoryview(buffer)
                while n := f.readinto(view):
                    out.write(view[:n])

        write_file_atomically(dst, 0o600, copy)
    elif op == "seal":
        seal_file(src, dst, DATA_KEY, **FIELDS)
    elif op == "unseal":
        unseal_file(src, dst, DATA_KEY, expect_key_id=FIELDS["key_id"])
    else:
        raise SystemExit(f"unknown op {op}")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rssMiB": rss_mib, "cpuSeconds": cpu}))


def run_child(op: str, src: str, dst: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", op, src, dst], capture_output=True, check=True, text=True)
    return dict(json.loads(out.stdout))


def write_input(path: str, size: int) -> None:
    """Incompressible data in 1 MiB blocks, synced to disk before timing starts."""
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for done in range(0, size, MiB):
            f.write(block[: min(MiB, size - done)])
        f.flush()
        os.fsync(f.fileno())


def same_sample(a: str, b: str) -> bool:
    """Sizes plus the first, middle and last MiB."""
    size = os.path.getsize(a)
    if size != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for at in (0, size // 2, max(0, size - MiB)):
            fa.seek(at)
            fb.seek(at)
            if fa.read(MiB) != fb.read(MiB):
                return False
    return True


def report(name: str, value: float, unit: str, **extra: Any) -> None:
    line: dict[str, Any] = {"name": name, "value": round(value, 1), "unit": unit, **extra}
    if "ceiling" in line:
        line["ceiling"] = round(line["ceiling"], 1)
    if "ratio" in line:
        line["ratio"] = round(line["ratio"], 3)
    print(json.dumps(line), flush=True)


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The fastest run (least disturbed by other load) and the highest peak RSS seen."""
    fastest = min(runs, key=lambda r: r["seconds"])
    return {**fastest, "rssMiB": max(r["rssMiB"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="64 MiB, one repetition")
    args = parser.parse_args()
    size_mib = 64 if args.quick else args.size_mib
    repetitions = 1 if args.quick else args.repetitions
    directory = tempfile.mkdtemp(prefix="keyward-py-bench-")
    p = lambda name: os.path.join(directory, name)  # noqa: E731
    try:
        write_input(p("input.bin"), size_mib * MiB)
        run_child("seal", p("input.bin"), p("input.sealed"))
        runs: dict[str, list[dict[str, float]]] = {"copy": [], "unseal": []}
        # Interleaved repetitions: page-cache write-back and neighbours' load hit both operations alike.
        for _ in range(repetitions):
            runs["copy"].append(run_child("copy", p("input.bin"), p("copy.bin")))
            os.remove(p("copy.bin"))
            runs["unseal"].append(run_child("unseal", p("input.sealed"), p("output.bin")))
            if not same_sample(p("input.bin"), p("output.bin")):
                raise SystemExit("unseal bench: the unsealed output differs from the input")
            os.remove(p("output.bin"))
        copy, unseal = best(runs["copy"]), best(runs["unseal"])
        copy_rate = size_mib / copy["seconds"]
        unseal_rate = size_mib / unseal["seconds"]
        label = f"{size_mib} MiB, best of {repetitions}"
        report(f"python.copy ({label})", copy_rate, "MiB/s", cpuSeconds=round(copy["cpuSeconds"], 2))
        report(
            f"python.unseal ({label})", unseal_rate, "MiB/s", ceiling=copy_rate, ratio=unseal_rate / copy_rate, target=TARGET, cpuSeconds=round(unseal["cpuSeconds"], 2)
        )
        for op, result in (("copy", copy), ("unseal", unseal)):
            report(f"python.{op}.peak_rss ({size_mib} MiB)", result["rssMiB"], "MiB", ceiling=RSS_CEILING_MIB, ratio=result["rssMiB"] / RSS_CEILING_MIB)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
