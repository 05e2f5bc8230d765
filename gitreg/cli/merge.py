"""``merge-driver``: the merge driver git runs for the two manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def merge_driver(
    ancestor: Annotated[Path, typer.Argument(help="The common ancestor's version (git's %O).")],
    current: Annotated[
        Path, typer.Argument(help="Our version, replaced by the merge result (git's %A).")
    ],
    other: Annotated[Path, typer.Argument(help="Their version (git's %B).")],
    path: Annotated[
        str | None, typer.Argument(help="The manifest's path in the repository (git's %P).")
    ] = None,
) -> None:
    """Merge two sides of a manifest by entry. Exits 1 when an entry conflicts."""
    from gitreg.gitrepo import write_atomically
    from gitreg.merge import detect_kind, merge_manifests

    ours, theirs = current.read_bytes(), other.read_bytes()
    kind = detect_kind(ours, theirs, ancestor.read_bytes(), path=path)
    shown = path or str(current)
    result = merge_manifests(ours, theirs, kind=kind, path=shown)
    write_atomically(current, result.data)
    if result.conflicts:
        for conflict in result.conflicts:
            typer.echo(f"gitreg: {shown}: {conflict}", err=True)
        typer.echo(
            f"gitreg: {shown}: keep one side of each conflict marker and publish the other "
            "side's entry again under a new version",
            err=True,
        )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("merge-driver")(merge_driver)
