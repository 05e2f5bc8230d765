"""``signers add|remove|list``: who may sign registry commits and tags."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitreg.cli import render
from gitreg.errors import UsageError

if TYPE_CHECKING:
    from gitreg.changes import CommitResult

# The core is imported inside each command, so that --help and the other commands
# do not load pygit2.

signers_app = typer.Typer(
    help="List and edit the trusted signers in .gitreg/, through signed commits.",
    no_args_is_help=True,
)

SignOption = Annotated[
    bool | None,
    typer.Option(
        "--sign/--no-sign",
        help="Sign the commit, or commit unsigned. Defaults to commit.gpgSign or tag.gpgSign.",
    ),
]


def _committed(result: CommitResult, what: str) -> None:
    state = "signed" if result.signed else "unsigned"
    commit = result.commit or ""
    typer.echo(f"✓ {what} in commit {commit[:12]} ({state})")
    typer.echo("Push it with 'git push'; verify accepts it only if a trusted key signed it.")


@signers_app.command("list")
def list_command(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the signers as JSON on standard output.")
    ] = False,
) -> None:
    """List the keys that the trust files committed at HEAD allow."""
    from gitreg.registry import open_registry
    from gitreg.signers import list_signers

    signers = list_signers(open_registry(Path.cwd()))
    if json_output:
        render.print_json([signer.__dict__ for signer in signers])
        return
    if not signers:
        typer.echo("No trusted signers: 'gitreg verify' cannot check signatures.")
        return
    for signer in signers:
        typer.echo(f"{signer.method:8} {signer.identity}  {signer.key_type}  {signer.fingerprint}")


@signers_app.command("add")
def add_command(
    principal: Annotated[
        str | None,
        typer.Option(
            "--principal", help="E-mail address the SSH key signs as, such as ann@example.com."
        ),
    ] = None,
    ssh_key: Annotated[
        str | None,
        typer.Option(
            "--ssh-key", help="SSH public key: a .pub file or a 'ssh-ed25519 AAAA...' literal."
        ),
    ] = None,
    openpgp_key: Annotated[
        str | None,
        typer.Option(
            "--openpgp-key", help="OpenPGP public key: an armored file, or a key id to export."
        ),
    ] = None,
    sign: SignOption = None,
) -> None:
    """Trust a new SSH or OpenPGP key, in a commit that a trusted key must sign."""
    from gitreg.registry import open_registry
    from gitreg.signers import add_openpgp_signer, add_ssh_signer

    repo = open_registry(Path.cwd())
    if (ssh_key is None) == (openpgp_key is None):
        raise UsageError("pass exactly one of --ssh-key and --openpgp-key")
    if ssh_key is not None:
        if principal is None:
            raise UsageError("--ssh-key needs --principal", hint="pass the signer's e-mail address")
        _committed(
            add_ssh_signer(repo, principal=principal, key=ssh_key, sign=sign), f"Added {principal}"
        )
        return
    assert openpgp_key is not None
    _committed(
        add_openpgp_signer(repo, key=openpgp_key, sign=sign), f"Added OpenPGP key {openpgp_key}"
    )


@signers_app.command("remove")
def remove_command(
    identity: Annotated[
        str, typer.Argument(help="Principal, SSH fingerprint (SHA256:...) or OpenPGP fingerprint.")
    ],
    sign: SignOption = None,
) -> None:
    """Stop trusting a key, in a commit that a trusted key must sign."""
    from gitreg.registry import open_registry
    from gitreg.signers import remove_signer

    result = remove_signer(open_registry(Path.cwd()), identity=identity, sign=sign)
    _committed(result, f"Removed {identity}")


def register(app: typer.Typer) -> None:
    app.add_typer(signers_app, name="signers")
