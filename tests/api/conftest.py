"""Fixtures of the HTTP API tests: a published registry, API keys and a live uvicorn server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pygit2
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pygit2.enums import ConfigLevel

from gitreg.api.keys import add_key
from gitreg.cli.app import run
from tests.conftest import IDENTITY_EMAIL, IDENTITY_NAME, CliResult

# What the ``registry`` fixture publishes: (kind, name, version, client, release, cleanliness).
PUBLISHED = (
    ("model", "forecast", "1.0.0", "acme-corp", "v1.0.0", 90),
    ("model", "forecast", "1.10.0", "acme-corp", "v1.1.0", 94),
    ("model", "forecast", "1.2.0", "acme-corp", "v1.1.0", 92),
    ("model", "forecast", "2.0.0-rc.1", "acme-corp", None, None),
    ("model", "forecast", "3.0.0", "globex", "v9", 70),
    ("model", "churn", "1.0.0", "globex", "v1.0.0", 80),
    ("model", "shared", "1.0.0", None, None, 50),
    ("dataset", "sales", "1.0.0", "acme-corp", "v1.0.0", 95),
    ("dataset", "sales", "1.1.0", "acme-corp", None, 96),
    ("dataset", "events", "1.0.0", "globex", "v1.0.0", 60),
)


def publish(cli: Any, repo: Path, kind: str, name: str, version: str, **options: Any) -> None:
    """Publish one entry through the real command line, with a fresh artifact."""
    artifact = repo / "artifacts" / f"{name}-{version}.{'bin' if kind == 'model' else 'csv'}"
    artifact.parent.mkdir(exist_ok=True)
    artifact.write_text(f"{name},{version}\n1,2\n", encoding="utf-8")
    command = "model-publish" if kind == "model" else "dataset-register"
    args = [command, "--path", str(artifact.relative_to(repo)), "--name", name]
    args += ["--version", version, "--no-sign"]
    if kind == "dataset":
        args += ["--rows", "1"]
    for option, value in options.items():
        if value is not None:
            args += [f"--{option}", str(value)]
    result = cli(*args, cwd=repo)
    assert result.exit_code == 0, result.stderr


def _run_quietly(*args: str, cwd: Path) -> CliResult:
    """Run the command line like the ``cli`` fixture, for fixtures wider than one test."""
    stdout, stderr = io.StringIO(), io.StringIO()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run(list(args))
    finally:
        os.chdir(before)
    return CliResult(exit_code=code, stdout=stdout.getvalue(), stderr=stderr.getvalue())


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published registry, built once per session through the real command line.

    The git configuration is isolated here as the autouse ``isolated_home`` fixture
    does per test, because that fixture cannot serve a session-wide one.
    """
    home = tmp_path_factory.mktemp("template-home")
    (home / ".gitconfig").write_text("", encoding="utf-8")
    repo = tmp_path_factory.mktemp("template") / "registry"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        levels = (ConfigLevel.GLOBAL, ConfigLevel.XDG, ConfigLevel.SYSTEM)
        saved = {level: pygit2.settings.search_path[level] for level in levels}
        for level in levels:
            pygit2.settings.search_path[level] = str(home)
        try:
            _build_registry(repo)
        finally:
            for level, value in saved.items():
                pygit2.settings.search_path[level] = value
    return repo


def _build_registry(repo: Path) -> None:
    created = pygit2.init_repository(str(repo), initial_head="main")
    created.config["user.name"] = IDENTITY_NAME
    created.config["user.email"] = IDENTITY_EMAIL
    metrics = repo.parent / "metrics.json"
    metrics.write_text(json.dumps({"rmse": 0.12, "r2": 0.89}), encoding="utf-8")
    for kind, name, version, client, release, cleanliness in PUBLISHED:
        publish(
            _run_quietly,
            repo,
            kind,
            name,
            version,
            client=client,
            release=release,
            cleanliness=cleanliness,
            metrics=metrics if kind == "model" else None,
        )


@pytest.fixture
def registry(registry_template: Path, tmp_path: Path) -> Path:
    """A registry with models and datasets of two clients and one entry without a client."""
    path = tmp_path / "registry"
    shutil.copytree(registry_template, path, symlinks=True)
    return path


@dataclass(frozen=True)
class Keys:
    """A key file and the keys written to it, by role."""

    path: Path
    acme: str
    globex: str
    both: str
    everyone: str
    acme_writer: str
    all_writer: str

    def header(self, key: str) -> dict[str, str]:
        return {"X-API-Key": key}


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    path = tmp_path / "secrets" / "api-keys.jsonl"
    return Keys(
        path=path,
        acme=add_key(path, name="acme", clients=("acme-corp",), writer=False),
        globex=add_key(path, name="globex", clients=("globex",), writer=False),
        both=add_key(path, name="both", clients=("acme-corp", "globex"), writer=False),
        everyone=add_key(path, name="everyone", clients=None, writer=False),
        acme_writer=add_key(path, name="acme-writer", clients=("acme-corp",), writer=True),
        all_writer=add_key(path, name="all-writer", clients=None, writer=True),
    )


class LiveServer:
    """A real uvicorn server for ``app`` on 127.0.0.1, run in a thread of this process."""

    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start within 10 seconds")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture
def live_server() -> Iterator[Callable[[FastAPI], LiveServer]]:
    """Start servers on demand; every one is stopped at teardown."""
    started: list[LiveServer] = []

    def start(app: FastAPI) -> LiveServer:
        server = LiveServer(app)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(params=["testclient", "uvicorn"])
def http(
    request: pytest.FixtureRequest, live_server: Callable[[FastAPI], LiveServer]
) -> Iterator[Callable[[FastAPI], httpx.Client | TestClient]]:
    """Open a client for an app: Starlette's TestClient, or httpx against live uvicorn."""
    opened: list[httpx.Client | TestClient] = []

    def open_client(app: FastAPI) -> httpx.Client | TestClient:
        client: httpx.Client | TestClient
        if request.param == "testclient":
            client = TestClient(app)
        else:
            client = httpx.Client(base_url=live_server(app).url, timeout=10)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()
