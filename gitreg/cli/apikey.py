"""``api-key add``, ``list`` and ``remove``: the key file of ``gitreg serve --keys``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitreg.cli import render
from gitreg.errors import UsageError

# gitreg.api.keys is imported inside each command, so that loading the command line
# does not pay for pydantic.

api_key_app = typer.Typer(
    name="api-key",
    help="Create, list and revoke the API keys of 'gitreg serve --keys'.",
    no_args_is_help=True,
)

AddKeysOption = Annotated[
    Path,
    typer.Option(
        "--keys",
        help="Key file to add to (JSON Lines, created if missing). Keep it outside the repository.",
    ),
]
ListKeysOption = Annotated[
    Path, typer.Option("--keys", help="Key file to read (JSON Lines); it must exist.")
]
RemoveKeysOption = Annotated[
    Path, typer.Option("--keys", help="Key file to remove the key from (JSON Lines).")
]
NameOption = Annotated[
    str, typer.Option("--name", help="Name of the key, shown in logs and listings.")
]


@api_key_app.command("add")
def add(
    keys: AddKeysOption,
    name: NameOption,
    client: Annotated[
        list[str] | None,
        typer.Option("--client", help="Client slug the key may see; repeat for several clients."),
    ] = None,
    all_clients: Annotated[
        bool,
        typer.Option(
            "--all-clients", help="Let the key see every client, and entries without one."
        ),
    ] = False,
    writer: Annotated[
        bool, typer.Option("--writer", help="Let the key publish when the server allows writes.")
    ] = False,
) -> None:
    """Create a key and print it once; the key file stores only its SHA-256."""
    if all_clients == bool(client):
        raise UsageError(
            "pass either --client (one or more) or --all-clients",
            hint="a key sees only the clients it is bound to",
        )
    from gitreg.api.keys import add_key

    clients = None if all_clients else tuple(client or ())
    key = add_key(keys, name=name, clients=clients, writer=writer)
    typer.echo(key)
    scope = "every client" if clients is None else ", ".join(clients)
    role = "writer" if writer else "read-only"
    typer.echo(
        f"Created {role} API key '{name}' for {scope}. It is shown only this once; store it now.",
        err=True,
    )


@api_key_app.command("list")
def list_keys(
    keys: ListKeysOption,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON on standard output.")
    ] = False,
) -> None:
    """List the keys by name, with their clients and whether they may write."""
    from gitreg.api.keys import ALL_CLIENTS, read_key_file

    records = read_key_file(keys).records
    if json_output:
        render.print_json(
            [
                {"name": record.name, "clients": record.clients, "writer": record.writer}
                for record in records
            ]
        )
        return
    for record in records:
        clients = ALL_CLIENTS if record.clients == ALL_CLIENTS else ",".join(record.clients)
        role = "writer" if record.writer else "read-only"
        typer.echo(f"{record.name}\t{clients}\t{role}")


@api_key_app.command("remove")
def remove(keys: RemoveKeysOption, name: NameOption) -> None:
    """Revoke a key; a running server rejects it from its next request on."""
    from gitreg.api.keys import remove_key

    remove_key(keys, name=name)
    typer.echo(f"Removed API key '{name}'.", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(api_key_app)
