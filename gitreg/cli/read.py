"""``list``, ``fetch`` and ``stats``: read-only commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitreg.cli import render
from gitreg.manifest import ENTRY_KEYS, Kind
from gitreg.registry import compute_stats, fetch, filter_entries, load_manifest, open_registry

KindOption = Annotated[
    render.KindChoice, typer.Option("--type", help="Entry type: model or dataset.")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON on standard output instead of text.")
]


def list_entries(
    kind: KindOption,
    client: Annotated[
        str | None, typer.Option("--client", help="Show only this client's entries.")
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Show only entries of this release tag.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List models or datasets, sorted by name and version."""
    kind_value: Kind = kind.value
    manifest = load_manifest(open_registry(Path.cwd()), kind_value)
    entries = filter_entries(manifest, client=client, release=release)
    if json_output:
        render.print_json(
            {"count": len(entries), ENTRY_KEYS[kind_value]: [e.to_json_dict() for e in entries]}
        )
        return
    render.entry_table(entries)


def fetch_entry(
    name: Annotated[str, typer.Option("--name", help="Entry name.")],
    kind: KindOption,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Version to fetch. Defaults to the highest SemVer precedence."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show one entry: a given version, or the latest by SemVer precedence."""
    repo = open_registry(Path.cwd())
    entry = fetch(load_manifest(repo, kind.value), name, version)
    if json_output:
        render.print_json(entry.to_json_dict())
        return
    render.entry_block(entry, workdir=None if repo.is_bare else repo.workdir)


def stats(json_output: JsonOption = False) -> None:
    """Show counts and average cleanliness of models and datasets, by client."""
    repo = open_registry(Path.cwd())
    figures = compute_stats(
        list(load_manifest(repo, "model").entries), list(load_manifest(repo, "dataset").entries)
    )
    if json_output:
        render.print_json(render.stats_json(figures))
        return
    render.stats_text(figures)


def register(app: typer.Typer) -> None:
    app.command("list")(list_entries)
    app.command("fetch")(fetch_entry)
    app.command("stats")(stats)
