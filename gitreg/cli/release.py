"""``release`` and ``release-notes``: tag-driven releases of the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

TagArgument = Annotated[str, typer.Argument(help="The release tag, such as v1.2.0.")]


def release_command(
    tag: TagArgument,
    sign: Annotated[
        bool,
        typer.Option(
            "--sign/--no-sign",
            help="Sign the tag with the key in the git configuration (the default).",
        ),
    ] = True,
) -> None:
    """Verify the registry, then tag HEAD with a signed annotated tag holding the notes."""
    from gitreg.registry import open_registry
    from gitreg.release import release

    result = release(open_registry(Path.cwd()), tag, sign=sign)
    state = "signed" if result.signed else "unsigned"
    typer.echo(f"✓ Created {state} release tag {result.tag} at {result.commit[:12]}")
    typer.echo(f"Push it with: git push origin {result.tag}")


def release_notes_command(tag: TagArgument) -> None:
    """Print the release notes of TAG (of HEAD while the tag does not exist yet)."""
    from gitreg.registry import open_registry
    from gitreg.release import release_notes

    typer.echo(release_notes(open_registry(Path.cwd()), tag), nl=False)


def register(app: typer.Typer) -> None:
    app.command("release")(release_command)
    app.command("release-notes")(release_notes_command)
