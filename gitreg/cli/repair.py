"""``repair``: finish or undo a publish that was interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitreg.lock import DEFAULT_TIMEOUT_SECONDS


def repair(
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0.0,
            help="Seconds to wait for another gitreg writer in this repository to finish.",
        ),
    ] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """Complete or roll back a publish that was killed before it finished.

    Every publish runs this first, so it is only needed to clean up by hand.
    """
    # Imported here so that the other commands and --help do not load pygit2.
    from gitreg.registry import repair_registry

    result = repair_registry(Path.cwd(), lock_timeout=lock_timeout)
    if result is None:
        typer.echo("Nothing to repair: no publish was interrupted.")
        return
    typer.echo(f"Repaired: {result.summary()}.")
    for name in result.removed:
        typer.echo(f"Removed the stale git lock file {name}.")
    for path in result.left_alone:
        typer.echo(f"Left {path} as it is: it was changed after the interrupted publish.")


def register(app: typer.Typer) -> None:
    app.command("repair")(repair)
