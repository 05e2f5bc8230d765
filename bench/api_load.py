"""Throughput and latency of ``gitreg serve`` on a registry of 10,000 model entries.

The script commits a manifest of SIZE model entries: SIZE / 10 names with 10
versions each, spread over 10 clients. It creates an API key for one client and
starts the real ``gitreg serve`` (uvicorn, one process) on 127.0.0.1.

Load comes from other processes. Each keeps one HTTP/1.1 keep-alive connection
through ``http.client`` from the standard library, which costs less CPU per
request than an async client, and sends requests back to back for the given
duration after a warm-up. It reports requests per second over all
connections and latency percentiles per request, for:

- ``GET /api/registry/models?client=X``: the 1/10 of entries of one client;
- ``GET /api/registry/models/{name}``: the latest version of one name, cycling
  over every name.

Every response must be 200 with the expected entry count or name; any other
response stops the run.

    .venv/bin/python bench/api_load.py --size 10000 --connections 2 --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from gitreg.api.keys import add_key  # noqa: E402
from gitreg.entries import ModelEntry  # noqa: E402
from gitreg.manifest import MANIFEST_PATHS, Manifest, serialize, sort_key  # noqa: E402

CLIENTS = 10
VERSIONS_PER_NAME = 10
SCOPED_CLIENT = "client-03"


def build_registry(path: Path, size: int) -> list[str]:
    """Commit a manifest of ``size`` model entries and return the entry names."""
    rng = random.Random(size)
    names = [f"model-{index:05d}" for index in range(max(1, size // VERSIONS_PER_NAME))]
    entries = []
    for index in range(size):
        name = names[index % len(names)]
        entries.append(
            ModelEntry(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                name=name,
                version=f"1.{index // len(names)}.0",
                created_at="2026-12-04T12:00:00Z",
                sha256=f"{rng.getrandbits(256):064x}",
                metrics={"rmse": round(rng.random(), 4), "r2": round(rng.random(), 4)},
                artifacts=(f"models/{name}.pkl",),
                cleanliness_score=rng.randrange(101),
                release_tag=f"v1.{index // len(names)}.0",
                client=f"client-{index % CLIENTS:02d}",
                notes="benchmark entry",
            )
        )

    manifest = Manifest(
        kind="model", updated_at="2026-12-04T12:00:00Z", entries=sorted(entries, key=sort_key)
    )

    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Bench")
    git(path, "config", "user.email", "bench@example.com")

    target = path / MANIFEST_PATHS["model"]
    target.parent.mkdir(parents=True)
    target.write_bytes(serialize(manifest))
    git(path, "add", MANIFEST_PATHS["model"])
    git(path, "commit", "-q", "-m", f"Add {size} model entries")
    return names


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(repo: Path, keys: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gitreg", "serve", "--port", str(port)]
    command += ["--keys", str(keys), "--no-access-log"]
    server = subprocess.Popen(command, cwd=repo, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gitreg serve did not start within 60 seconds")


@dataclass(frozen=True)
class Job:
    """The requests of one load process and how long to send them."""

    port: int
    key: str
    paths: list[str]
    expect: str
    warmup: float
    seconds: float


def run_connection(job: Job) -> list[float]:
    """Send requests back to back on one connection; return the latencies of the timed part."""
    connection = http.client.HTTPConnection("127.0.0.1", job.port, timeout=30)
    headers = {"X-API-Key": job.key}
    latencies: list[float] = []
    start = time.perf_counter()
    timed_from = start + job.warmup
    stop = timed_from + job.seconds
    index = os.getpid()
    while True:
        path = job.paths[index % len(job.paths)]
        index += 1
        sent = time.perf_counter()
        if sent >= stop:
            break
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        done = time.perf_counter()
        if response.status != 200 or job.expect.encode() not in body[:200]:
            raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
        if sent >= timed_from:
            latencies.append(done - sent)
    connection.close()
    return latencies


def measure(job: Job, connections: int) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(connections) as pool:
        results = pool.map(run_connection, [job] * connections)
    latencies = sorted(latency for result in results for latency in result)
    count = len(latencies)

    def percentile(fraction: float) -> float:
        return latencies[min(count - 1, int(fraction * count))] * 1000

    return {
        "requests": count,
        "requests_per_second": round(count / job.seconds, 1),
        "p50_ms": round(percentile(0.50), 2),
        "p99_ms": round(percentile(0.99), 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="model entries in the manifest")
    parser.add_argument("--connections", type=int, default=2, help="load processes")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed part per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds first")
    options = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="gitreg-api-bench-"))
    try:
        names = build_registry(root / "registry", options.size)
        keys = root / "keys.jsonl"
        key = add_key(keys, name="bench", clients=(SCOPED_CLIENT,), writer=False)
        everyone = add_key(keys, name="everyone", clients=None, writer=False)
        port = free_port()
        server = start_server(root / "registry", keys, port)
        try:
            per_client = options.size // CLIENTS
            scenarios = {
                "GET /models?client=X": Job(
                    port,
                    key,
                    [f"/api/registry/models?client={SCOPED_CLIENT}"],
                    f'{{"count":{per_client},',
                    options.warmup,
                    options.seconds,
                ),
                "GET /models/{name}": Job(
                    port,
                    everyone,
                    [f"/api/registry/models/{name}" for name in names],
                    '"name":"model-',
                    options.warmup,
                    options.seconds,
                ),
            }
            results = {label: measure(job, options.connections) for label, job in scenarios.items()}
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    report = {
        "size": options.size,
        "connections": options.connections,
        "seconds": options.seconds,
        "cpus": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
