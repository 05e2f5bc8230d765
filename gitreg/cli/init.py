"""``init``: make a repository a registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from gitreg.init import InitResult


def _describe(result: InitResult) -> str:
    lines = []
    if result.created_repository:
        lines.append(f"Created a git repository in {result.workdir}")
    if result.generated_key is not None:
        lines.append(
            f"Signing key: {result.generated_key} (ed25519, configured for this repository)"
        )
    if result.signer is not None:
        lines.append(f"Trusted signer: {result.signer}")
    if result.trust_notice is not None:
        lines.append(f"! {result.trust_notice}")
    if result.commit is None:
        lines.append("✓ Already a registry; nothing to commit")
        return "\n".join(lines)
    state = "signed" if result.signed else "unsigned"
    lines.append(f"✓ Registry initialized in commit {result.commit[:12]} ({state})")
    lines += [f"  {path}" for path in result.paths]
    if result.signer is not None:
        trust = (
            "This commit is the root of trust: whoever verifies the registry trusts the keys "
            "it names."
        )
    else:
        trust = (
            "This commit names no trusted keys, so 'gitreg verify' cannot check signatures; "
            "add keys later with 'gitreg signers add'."
        )
    lines += [
        "",
        trust,
        "Next: push it with 'git push --follow-tags', then publish with 'gitreg model-publish'.",
    ]
    return "\n".join(lines)


def init(
    generate_key: Annotated[
        bool,
        typer.Option(
            "--generate-key",
            help="Create an ed25519 SSH signing key in the user's config folder and sign with it.",
        ),
    ] = False,
    sign: Annotated[
        bool | None,
        typer.Option(
            "--sign/--no-sign",
            help="Sign the commit and trust the signing key, or set up an unsigned registry.",
        ),
    ] = None,
) -> None:
    """Turn this repository (or a new one here) into a registry, in one signed commit."""
    # Imported here so that the other commands and --help do not load pygit2.
    from gitreg.init import init_registry

    result = init_registry(
        Path.cwd(),
        generate_key=generate_key,
        sign=sign,
        launcher=[sys.executable, "-m", "gitreg"],
    )
    typer.echo(_describe(result))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
