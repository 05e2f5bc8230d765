"""``list``, ``fetch`` and ``stats``: read-only commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitreg.cli import render

if TYPE_CHECKING:
    from gitreg.manifest import Kind

# The core is imported inside each command, so that --help and the other commands
# do not pay for pygit2 and pydantic.

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
    from gitreg.manifest import ENTRY_KEYS
    from gitreg.registry import filter_documents, load_manifest, open_registry

    kind_value: Kind = kind.value
    manifest = load_manifest(open_registry(Path.cwd()), kind_value)
    entries_text = manifest.entry_list.text()
    if json_output and client is None and release is None and entries_text is not None:
        render.print_entry_list_json(ENTRY_KEYS[kind_value], len(manifest.entries), entries_text)
        count = len(manifest.entries)
    else:
        documents = filter_documents(manifest, client=client, release=release)
        if json_output:
            render.print_json({"count": len(documents), ENTRY_KEYS[kind_value]: documents})
        else:
            render.entry_table(documents)
        count = len(documents)
    if count == 0:
        # Standard output stays data, so the empty result is explained on stderr.
        filters = [
            f"--{name} {value}"
            for name, value in (("client", client), ("release", release))
            if value is not None
        ]
        typer.echo(" ".join([f"no {kind_value}s match", *filters]), err=True)


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
    from gitreg.registry import (
        artifact_presence,
        fetch_document,
        load_manifest,
        open_registry,
    )

    repo = open_registry(Path.cwd())
    entry = fetch_document(load_manifest(repo, kind.value), name, version)
    present = artifact_presence(repo, entry["artifacts"])
    if json_output:
        render.print_json(entry)
        return
    render.entry_block(entry, present=present)


def stats(json_output: JsonOption = False) -> None:
    """Show counts and average cleanliness of models and datasets, by client."""
    from gitreg.registry import compute_stats, load_manifest, open_registry

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
