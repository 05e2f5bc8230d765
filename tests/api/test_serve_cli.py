"""``gitreg serve``: the real command in a subprocess, and its start-up errors in-process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Keys


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """``python -m gitreg serve`` on a free port of 127.0.0.1."""

    def __init__(self, repo: Path, *options: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout = ""
        command = [sys.executable, "-m", "gitreg", "serve", "--port", str(self.port), *options]
        self.process = subprocess.Popen(
            command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gitreg serve exited: {self.process.communicate()[1]}")
            try:
                httpx.get(f"{self.url}/api/registry/health", timeout=1)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            return
        raise RuntimeError("gitreg serve did not answer within 20 seconds")

    def stop(self) -> tuple[int, str]:
        """Stop the server as a terminal would and return its exit code and standard error."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.stdout, stderr = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.stdout, stderr = self.process.communicate()
        return self.process.returncode, stderr


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[ServeProcess] = []

    def start(repo: Path, *options: str) -> ServeProcess:
        server = ServeProcess(repo, *options)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def test_serve_open_api(serve: Any, registry: Path) -> None:
    server = serve(registry, "--no-access-log")
    response = httpx.get(f"{server.url}/api/registry/models", params={"client": "globex"})
    code, stderr = server.stop()
    assert response.json()["count"] == 2
    assert code == 0
    assert "no key file: the API is open to anyone who can reach it" in stderr


def test_serve_access_log_on_stderr(serve: Any, registry: Path) -> None:
    server = serve(registry)
    httpx.get(f"{server.url}/api/registry/models")
    _, stderr = server.stop()
    assert '"GET /api/registry/models HTTP/1.1" 200' in stderr


def test_serve_stdout_empty(serve: Any, registry: Path) -> None:
    server = serve(registry)
    httpx.get(f"{server.url}/api/registry/models")
    server.stop()
    assert server.stdout == ""


def test_serve_with_keys(serve: Any, registry: Path, keys: Keys) -> None:
    server = serve(registry, "--keys", str(keys.path))
    missing = httpx.get(f"{server.url}/api/registry/models")
    scoped = httpx.get(f"{server.url}/api/registry/models", headers=keys.header(keys.globex))
    _, stderr = server.stop()
    assert missing.status_code == 401
    assert scoped.json()["count"] == 2
    assert "API keys required: 6 keys" in stderr
    assert keys.globex not in stderr


def test_serve_with_writes(serve: Any, registry: Path, keys: Keys) -> None:
    (registry / "artifacts" / "api.bin").write_bytes(b"weights")
    server = serve(registry, "--keys", str(keys.path), "--allow-writes")
    body = {"name": "api", "version": "1.0.0", "artifacts": ["artifacts/api.bin"]}
    headers = keys.header(keys.acme_writer)
    published = httpx.post(f"{server.url}/api/registry/models", json=body, headers=headers)
    fetched = httpx.get(f"{server.url}/api/registry/models/api", headers=headers)
    _, stderr = server.stop()
    assert published.status_code == 201
    assert fetched.json()["client"] == "acme-corp"
    assert "key acme-writer published model/api@v1.0.0" in stderr


def test_serve_without_fastapi(cli: Any, registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)
    result = cli("serve", cwd=registry)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "FastAPI and uvicorn, but fastapi is not installed" in result.stderr
    assert "pip install 'gitreg[api]'" in result.stderr


def test_serve_writes_without_keys(cli: Any, registry: Path) -> None:
    result = cli("serve", "--allow-writes", cwd=registry)
    assert result.exit_code == 2
    assert "--allow-writes needs --keys" in result.stderr


def test_serve_bad_key_file(cli: Any, registry: Path, tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    path.write_text('{"name": "x"}\n', encoding="utf-8")
    result = cli("serve", "--keys", str(path), cwd=registry)
    assert result.exit_code == 2
    assert f"{path}:1: sha256: Field required" in result.stderr


def test_serve_unknown_ref(cli: Any, registry: Path) -> None:
    result = cli("serve", "--ref", "nope", cwd=registry)
    assert result.exit_code == 1
    assert "revision 'nope' not found" in result.stderr


def test_serve_outside_repository(cli: Any, tmp_path: Path) -> None:
    result = cli("serve", cwd=tmp_path)
    assert result.exit_code == 1
    assert "is not inside a git repository" in result.stderr


@pytest.mark.parametrize("command", [["serve"], ["api-key", "add"], ["api-key", "list"]])
def test_help_describes_every_option(cli: Any, tmp_path: Path, command: list[str]) -> None:
    result = cli(*command, "--help", cwd=tmp_path)
    options = [line for line in result.stdout.splitlines() if line.strip().startswith("--")]
    assert result.exit_code == 0
    assert options
    assert all(len(line.split(None, 1)) == 2 for line in options)


def test_serve_busy_port(cli: Any, registry: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = cli("serve", "--port", str(port), cwd=registry)
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "pick another --port" in result.stderr


def test_serve_unknown_host(cli: Any, registry: Path) -> None:
    result = cli("serve", "--host", "no-such-host.invalid", cwd=registry)
    assert result.exit_code == 1
    assert "--host no-such-host.invalid cannot be resolved" in result.stderr


def test_serve_port_zero_logs_address(registry: Path) -> None:
    command = [sys.executable, "-m", "gitreg", "serve", "--port", "0", "--no-access-log"]
    process = subprocess.Popen(command, cwd=registry, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = ""
        for line in process.stderr:
            if "listening on" in line:
                break
        port = int(line.rsplit(":", 1)[1])
        response = httpx.get(f"http://127.0.0.1:{port}/api/registry/health", timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)
    assert response.status_code == 200
    assert process.returncode == 0
