"""Property-based tests of the OpenAPI document against the real server, with schemathesis.

Schemathesis generates requests from the document and checks every response:
no 5xx, only documented status codes and content types, bodies that match their
schema, 401 without the key, 4xx for invalid input and 405 with a correct
``Allow`` header. The example count and seed are fixed to bound the run time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from gitreg.api.app import create_app
from tests.api.conftest import Keys, LiveServer

MAX_EXAMPLES = "15"
SEED = "20261204"


def _schemathesis(url: str, key: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--header",
        f"X-API-Key: {key}",
        "--no-color",
    ]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_read_api_conforms(
    live_server: Callable[[FastAPI], LiveServer], registry: Path, keys: Keys, tmp_path: Path
) -> None:
    server = live_server(create_app(registry, key_file=keys.path))
    result = _schemathesis(server.url, keys.acme, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]


def test_write_api_conforms(
    live_server: Callable[[FastAPI], LiveServer], registry: Path, keys: Keys, tmp_path: Path
) -> None:
    server = live_server(create_app(registry, key_file=keys.path, allow_writes=True))
    result = _schemathesis(server.url, keys.all_writer, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]
