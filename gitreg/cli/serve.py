"""``serve``: the HTTP API on uvicorn, with FastAPI and uvicorn imported only here."""

from __future__ import annotations

import contextlib
import copy
import logging
import socket
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


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so that a busy port gets gitreg's one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        raise GitregError(
            f"--host {host} cannot be resolved: {exc.strerror}",
            hint="pass an IP address such as 127.0.0.1",
        ) from None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise GitregError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="pick another --port, or stop the process that uses it",
        ) from None
    return listener


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
    """Serve the registry as committed on a git ref over HTTP, read-only by default."""
    _import_server()
    import uvicorn

    from gitreg.api.app import create_app

    logging.getLogger("gitreg").setLevel(logging.INFO)
    app = create_app(Path.cwd(), ref=ref, key_file=keys, allow_writes=allow_writes)
    listener = _listen(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    # uvicorn names the address only when it binds the socket itself.
    logging.getLogger("gitreg.api").info("listening on http://%s:%d", shown_host, bound_port)
    # Standard output carries data only, so uvicorn's access log joins the rest on stderr.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config = uvicorn.Config(
        app, access_log=access_log, log_level="info", log_config=log_config
    )
    # uvicorn shuts down gracefully on Ctrl-C, then raises the signal again.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listener])


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
