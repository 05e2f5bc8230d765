"""``serve``: the HTTP API on uvicorn, with FastAPI and uvicorn imported only here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from gitreg.errors import GitregError


def _import_server() -> None:
    """Check that the ``api`` extra is installed, before any work is done."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise GitregError(
            f"'gitreg serve' needs FastAPI and uvicorn, but {exc.name} is not installed",
            hint="install them with: pip install 'gitreg[api]'",
        ) from None


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on. Keep 127.0.0.1 behind a proxy.")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="TCP port to listen on; 0 picks a free one."),
    ] = 8000,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            help="Branch, tag or commit to serve. "
            "Defaults to the branch HEAD points at, read again on every request.",
        ),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="API key file (see 'gitreg api-key add'). Without it the API is open to everyone.",
        ),
    ] = None,
    allow_writes: Annotated[
        bool,
        typer.Option(
            "--allow-writes",
            help="Let writer keys publish and verify over HTTP. Needs --keys and a work tree.",
        ),
    ] = False,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log one line per request.")
    ] = True,
) -> None:
    """Serve the registry as committed on a git ref over a read-only HTTP API."""
    _import_server()
    import uvicorn

    from gitreg.api.app import create_app

    logging.getLogger("gitreg").setLevel(logging.INFO)
    app = create_app(Path.cwd(), ref=ref, key_file=keys, allow_writes=allow_writes)
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
