"""``diff``: the registry changes between two revisions, for pull-request review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitreg.cli import render


def diff(
    base: Annotated[
        str | None,
        typer.Argument(
            help="Revision to compare from. Default: the merge base of HEAD with the "
            "default branch (origin/HEAD, else main, else master)."
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Argument(help="Revision to compare to. Default: the work tree."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON on standard output instead of Markdown.")
    ] = False,
) -> None:
    """Summarise registry changes as Markdown. Exits 1 when a published entry was
    removed or edited."""
    from gitreg.diff import WORKTREE, Revision, default_base, registry_diff, to_json, to_markdown
    from gitreg.registry import open_registry

    repo = open_registry(Path.cwd())
    old = default_base(repo) if base is None else Revision(base, repo.resolve(base))
    new = Revision(WORKTREE, None) if head is None else Revision(head, repo.resolve(head))
    changes = registry_diff(repo, old, new)
    if json_output:
        render.print_json(to_json(changes))
    else:
        typer.echo(to_markdown(changes), nl=False)
    if changes.violations:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
