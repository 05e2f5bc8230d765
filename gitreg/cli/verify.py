"""``verify``: can this registry be trusted as it stands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitreg.cli import render
from gitreg.registry import open_registry
from gitreg.verify import verify_current


def verify(
    no_hash: Annotated[
        bool, typer.Option("--no-hash", help="Skip rehashing artifacts; check everything else.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on standard output.")
    ] = False,
) -> None:
    """Verify manifests, artifact hashes and tags. Exits 1 if any check fails."""
    repo = open_registry(Path.cwd())
    if not json_output:
        typer.echo("Verifying registry integrity...")
    report = verify_current(repo, rehash=not no_hash)
    if json_output:
        render.print_json(render.verify_json(report))
    else:
        render.verify_text(report)
    if not report.valid:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
