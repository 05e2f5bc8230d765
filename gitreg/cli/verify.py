"""``verify``: can this registry be trusted as it stands and as it came to be."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gitreg.cli import render


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Callable[[int], None], Callable[[int, int], None]]]:
    """Yield progress callbacks for hashing and the history walk, drawn on stderr."""
    if not enabled:
        yield (lambda _count: None), (lambda _done, _total: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        hashing = bar.add_task("Hashing artifacts (bytes)", total=None)
        history = bar.add_task("Walking history (commits)", total=None, visible=False)

        def on_hash(count: int) -> None:
            bar.advance(hashing, count)

        def on_history(done: int, total: int) -> None:
            bar.update(hashing, visible=False)
            bar.update(history, completed=done, total=total, visible=True)

        yield on_hash, on_history


def verify(
    no_hash: Annotated[
        bool, typer.Option("--no-hash", help="Skip rehashing artifacts; check everything else.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on standard output.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="REV",
            help="Check only the history after REV, a commit verified before (for pull requests).",
        ),
    ] = None,
    full_history: Annotated[
        bool,
        typer.Option(
            "--full-history",
            help="Compare every manifest version entry by entry; slower, quadratic in entries.",
        ),
    ] = False,
) -> None:
    """Verify manifests, artifacts, tags, signatures and history. Exits 1 if any check fails."""
    # Imported here so that the other commands and --help do not load pygit2.
    from gitreg.registry import open_registry
    from gitreg.verify import verify_registry

    repo = open_registry(Path.cwd())
    if not json_output:
        typer.echo("Verifying registry integrity...")
    with _progress(not json_output and sys.stderr.isatty()) as (on_hash, on_history):
        report = verify_registry(
            repo,
            rehash=not no_hash,
            since=since,
            full_history=full_history,
            on_hash_progress=on_hash,
            on_history_progress=on_history,
        )
    if json_output:
        render.print_json(render.verify_json(report))
    else:
        render.verify_text(report)
    if not report.valid:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
