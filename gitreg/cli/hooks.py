"""``hooks install`` and the hidden ``hook`` commands that the installed hooks run."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    # Only for annotations: the core loads pydantic and pygit2, which every hook
    # run needs but 'gitreg --help' does not.
    from gitreg.gitrepo import Repository
    from gitreg.hooks import Problem
    from gitreg.manifest import Kind

hooks_app = typer.Typer(
    help="Install gitreg's commit hooks and merge driver into a repository.",
    no_args_is_help=True,
)
hook_app = typer.Typer(
    help="Checks that the commit hooks run on the staged manifests.", no_args_is_help=True
)

FilesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Manifest paths to check, relative to the repository root. Default: both manifests."
    ),
]


def _kinds(files: list[str] | None) -> list[Kind]:
    """Return the manifests named by ``files``; other paths are ignored."""
    from gitreg.manifest import KINDS, MANIFEST_PATHS

    if not files:
        return list(KINDS)
    named = {Path(file).as_posix().removeprefix("./") for file in files}
    return [kind for kind in KINDS if MANIFEST_PATHS[kind] in named]


def _index_file() -> Path | None:
    # During 'git commit -a' and 'git commit PATH' git stages into a temporary index
    # and names it in GIT_INDEX_FILE, relative to the work tree root where hooks run.
    value = os.environ.get("GIT_INDEX_FILE")
    return None if not value else Path(value).absolute()


def _report(problems: list[Problem], *, check: str) -> None:
    for problem in problems:
        typer.echo(f"{problem}", err=True)
    if problems:
        typer.echo(f"gitreg {check}: {len(problems)} problem(s); the commit was stopped", err=True)
        raise typer.Exit(1)


def _validate_problems(repo: Repository, kinds: list[Kind]) -> list[Problem]:
    from gitreg.hooks import validate as check_validate
    from gitreg.manifest import MANIFEST_PATHS

    problems: list[Problem] = []
    for kind in kinds:
        data = repo.staged_blob(MANIFEST_PATHS[kind], index_file=_index_file())
        if data is not None:
            problems += check_validate(data, kind=kind, source=MANIFEST_PATHS[kind])
    return problems


def validate(files: FilesArgument = None) -> None:
    """Check that the staged manifests parse, match the schemas and repeat no version."""
    from gitreg.registry import open_registry

    repo = open_registry(Path.cwd())
    _report(_validate_problems(repo, _kinds(files)), check="validate")


def _append_only_problems(repo: Repository, kind: Kind) -> list[Problem]:
    from gitreg.hooks import append_only as check_append_only
    from gitreg.manifest import MANIFEST_PATHS

    path = MANIFEST_PATHS[kind]
    published = repo.read_at(repo.head_commit(), path)
    staged = repo.staged_blob(path, index_file=_index_file())
    return check_append_only(published, staged, kind=kind, source=path)


def append_only(files: FilesArgument = None) -> None:
    """Check that the staged manifests keep every entry of HEAD unchanged."""
    from gitreg.registry import open_registry

    repo = open_registry(Path.cwd())
    problems: list[Problem] = []
    for kind in _kinds(files):
        problems += _append_only_problems(repo, kind)
    _report(problems, check="append-only")


def check_all(files: FilesArgument = None) -> None:
    """Run validate and, when it passes, append-only, in one process."""
    from gitreg.registry import open_registry

    repo = open_registry(Path.cwd())
    kinds = _kinds(files)
    invalid = _validate_problems(repo, kinds)
    _report(invalid, check="validate")
    problems: list[Problem] = []
    for kind in kinds:
        problems += _append_only_problems(repo, kind)
    _report(problems, check="append-only")


def install_command(
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace hooks that gitreg did not install, keeping a backup of each."
        ),
    ] = False,
) -> None:
    """Install the pre-commit and pre-merge-commit hooks and register the merge driver."""
    from gitreg.install import install
    from gitreg.registry import open_registry

    repo = open_registry(Path.cwd())
    result = install(repo, launcher=[sys.executable, "-m", "gitreg"], force=force)
    for hook in result.hooks:
        typer.echo(f"Installed {hook}")
    for backup in result.backups:
        typer.echo(f"Kept the previous hook as {backup}")
    typer.echo(f"Merge driver: {result.driver_command}")
    if result.attributes_added:
        typer.echo("Added to .gitattributes (commit it so that every clone merges by entry):")
        for line in result.attributes_added:
            typer.echo(f"  {line}")


def register(app: typer.Typer) -> None:
    hooks_app.command("install")(install_command)
    hook_app.command("validate")(validate)
    hook_app.command("append-only")(append_only)
    hook_app.command("check")(check_all)
    app.add_typer(hooks_app, name="hooks")
    app.add_typer(hook_app, name="hook", hidden=True)
