"""API read latency and throughput on the bundled data, over loopback.

1. Latency at a fixed rate of 200 requests/s, round-robin over the read endpoints: ``wrk`` with 20 paced
   connections (Debian package) when installed, else an open-loop asyncio/httpx generator that measures from
   each request's scheduled send time (that generator is itself slow on 2 cores and may undershoot the rate;
   the achieved rate is reported).
2. Throughput at saturation: ``wrk`` (Debian package) when installed, else a closed-loop httpx generator.
Baseline measured in the same run: ``/health`` (framework floor, no store access) at saturation; the ratio is
read-endpoint throughput / baseline throughput.

Bounded: at most ~10 s per phase (3 s with quick=True); loopback only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server import running_server

ENDPOINTS = (
    "/api/v1/minerals",
    "/api/v1/minerals/lithium/shares?stage=mining",
    "/api/v1/minerals/rare-earths/concentration",
    "/api/v1/minerals/rare-earths/dependency",
    "/api/v1/minerals/lithium/trade-flows",
    "/api/v1/minerals/copper/prices?limit=200",
    "/api/v1/targets",
    "/api/v1/sources",
    "/api/v1/minerals/cobalt/shares?stage=refining&format=csv",
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _fixed_rate(base: str, paths: tuple[str, ...], rate: float, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        start = time.perf_counter()
        total = int(rate * seconds)

        async def one(i: int, scheduled: float) -> None:
            response = await client.get(paths[i % len(paths)])
            latencies.append(time.perf_counter() - scheduled)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        # A dispatcher starts each request at its scheduled time (open loop: a slow answer never delays the
        # next send), so the latency measured from the schedule includes any queueing in the server.
        tasks = []
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "target_rate": rate,
        "requests": total,
        "achieved_rate": round(total / elapsed, 1),
        "p50_ms": round(1000 * _percentile(latencies, 0.50), 2),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2),
        "max_ms": round(1000 * max(latencies), 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def _wrk(base: str, paths: tuple[str, ...], seconds: int, rate: float | None = None) -> dict[str, Any]:
    """wrk round-robin over ``paths``; with ``rate``, each of 20 connections pauses so the total is ~rate/s."""
    connections = 20 if rate else 32
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    quoted = ", ".join(f'"{p}"' for p in paths)
    pause = f"delay = function()\n  return {1000 * connections / rate - 6:.1f}\nend\n" if rate else ""
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n" + pause,
        encoding="utf-8",
    )
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        script.unlink()
    lines = [line.strip() for line in out.splitlines()]
    rps = next(float(line.split()[1]) for line in lines if line.startswith("Requests/sec"))
    pct = {q: _ms(next(line.split()[1] for line in lines if line.startswith(f"{q}%"))) for q in (50, 99)}
    non2xx = next((int(line.split()[-1]) for line in lines if "Non-2xx" in line), 0)
    return {
        "tool": f"wrk -t2 -c{connections}" + (f" paced to {rate:g}/s" if rate else ""),
        "requests_per_s": rps,
        "p50_ms": pct[50],
        "p99_ms": pct[99],
        "non_2xx": non2xx,
    }


def _ms(text: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(suffix):
            return round(float(text[: -len(suffix)]) * factor, 3)
    raise ValueError(f"unexpected wrk latency {text!r}")


async def _closed_loop(base: str, paths: tuple[str, ...], seconds: float) -> dict[str, Any]:
    done = 0
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        stop = time.perf_counter() + seconds

        async def worker(k: int) -> None:
            nonlocal done
            i = k
            while time.perf_counter() < stop:
                await client.get(paths[i % len(paths)])
                done += 1
                i += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(16)))
        elapsed = time.perf_counter() - start
    return {"tool": "httpx closed loop, 16 connections", "requests_per_s": round(done / elapsed, 1)}


def _saturation(base: str, paths: tuple[str, ...], seconds: int) -> dict[str, Any]:
    if shutil.which("wrk"):
        return _wrk(base, paths, seconds)
    return asyncio.run(_closed_loop(base, paths, seconds))


def _measure(url: str, workers: int, seconds: int) -> dict[str, Any]:
    """Start uvicorn with ``workers`` processes on the store at ``url`` and run the three phases."""
    with running_server(
        url,
        env={"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0"},
        workers=workers,
        timeout=90,
        extra_args=("--no-access-log",),
    ) as base:
        # warm every worker's cache (connections land on workers unevenly, so repeat)
        warm = {p: httpx.get(base + p, timeout=60).status_code for p in ENDPOINTS}
        for _ in range(4 * workers):
            for p in ENDPOINTS:
                httpx.get(base + p, timeout=60)
        fixed = (
            _wrk(base, ENDPOINTS, seconds, rate=200.0)
            if shutil.which("wrk")
            else asyncio.run(_fixed_rate(base, ENDPOINTS, 200.0, seconds))
        )
        reads = _saturation(base, ENDPOINTS, seconds)
        baseline = _saturation(base, ("/health",), seconds)
    return {
        "workers": workers,
        "warm_statuses": warm,
        "fixed_rate_200": fixed,
        "p99_under_50ms_at_200rps": fixed["p99_ms"] < 50,
        "saturation_reads": reads,
        "baseline_health_saturation": baseline,
        "ratio_reads_to_health": round(reads["requests_per_s"] / baseline["requests_per_s"], 3),
    }


def run(quick: bool = False) -> dict[str, Any]:
    from lodeline.config import RAW_DATA_DIR
    from lodeline.data.build import build
    from lodeline.store.engine import make_engine, upgrade

    seconds = 3 if quick else 10
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        build(engine, RAW_DATA_DIR)
        engine.dispose()
        runs = [_measure(url, workers, seconds) for workers in ((1,) if quick else (1, 2))]
    return {
        "machine_note": "2 cores shared with other jobs; generator and server on the same host (loopback)",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "endpoints": list(ENDPOINTS),
        "runs": runs,
        # the headline figures: the single-worker run (the default of `lodeline serve`)
        "p99_ms_at_200rps": runs[0]["fixed_rate_200"]["p99_ms"],
        "saturation_requests_per_s": runs[0]["saturation_reads"]["requests_per_s"],
        "baseline_health_requests_per_s": runs[0]["baseline_health_saturation"]["requests_per_s"],
        "ratio_reads_to_health": runs[0]["ratio_reads_to_health"],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
