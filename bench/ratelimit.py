"""Benchmark of the rate-limit ledger: latency of one ``hit()`` and throughput under contention.

    python bench/ratelimit.py [--hits 2000] [--threads 16]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/ratelimit.py

Runs on a throwaway database of its own (a temporary SQLite file, or ``voice_bench_ratelimit``
on the PostgreSQL server of ``DATABASE_URL``), so it never touches real or test data.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceproject.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["VOICE_VAR_DIR"] = tempfile.mkdtemp(prefix="voice-bench-")
    # Settings put a secret key and the static folder there too: none of it outlives the run.
    atexit.register(shutil.rmtree, os.environ["VOICE_VAR_DIR"], ignore_errors=True)

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402

from voice.models import RateLimitBucket  # noqa: E402
from voice.services.ratelimit import hit  # noqa: E402


def timed(action: Callable[[], object], times: int) -> list[float]:
    """Milliseconds per call."""
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
        "per_second": round(1000 / statistics.mean(ordered)),
    }


def contended(threads: int, hits_each: int, limit: int) -> dict[str, float]:
    """``threads`` threads hammer one key; reports throughput and whether counting stayed exact."""
    barrier = threading.Barrier(threads + 1)
    allowed = [0] * threads

    def worker(index: int) -> None:
        barrier.wait()
        try:
            for _ in range(hits_each):
                allowed[index] += hit("bench:hot", limit, 3600).allowed
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    total = threads * hits_each
    counted = RateLimitBucket.objects.get(key="bench:hot/3600s").count
    return {
        "hits": total,
        "per_second": round(total / elapsed),
        "allowed": sum(allowed),
        "limit": limit,
        "exact": sum(allowed) == counted == min(total, limit),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        str(Path(os.environ["VOICE_VAR_DIR"]) / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else "voice_bench_ratelimit"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        hit("bench:warm", 10, 60)
        results = {
            "database": connection.vendor,
            "allowed": summary(timed(lambda: hit("bench:open", 10**9, 3600), args.hits)),
            "refused": summary(timed(lambda: hit("bench:full", 1, 3600), args.hits)),
            "new_window_each_time": summary(
                timed(lambda: hit(f"bench:{time.perf_counter_ns()}", 5, 60), args.hits // 4)
            ),
            "contended": contended(args.threads, args.hits // args.threads, args.hits // 2),
        }
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
