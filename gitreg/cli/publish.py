"""``model-publish`` and ``dataset-register``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitreg.cli import render
from gitreg.lock import DEFAULT_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from gitreg.registry import PublishRequest

PathOption = Annotated[
    str, typer.Option("--path", help="Path of the artifact file inside the repository.")
]
VersionOption = Annotated[
    str, typer.Option("--version", help="SemVer 2.0.0 version of this entry, such as 1.0.0.")
]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name", help="Entry name. Defaults to the artifact's file name without suffixes."
    ),
]
ClientOption = Annotated[
    str | None,
    typer.Option("--client", help="Client slug that scopes the entry, such as acme-corp."),
]
CleanlinessOption = Annotated[
    int | None, typer.Option("--cleanliness", help="Data quality score, an integer from 0 to 100.")
]
ReleaseOption = Annotated[
    str | None, typer.Option("--release", help="Release tag the entry belongs to, such as v1.0.0.")
]
NotesOption = Annotated[str | None, typer.Option("--notes", help="Release notes or a description.")]
SignOption = Annotated[
    bool | None,
    typer.Option(
        "--sign/--no-sign",
        help="Sign the commit and tag, or publish unsigned. "
        "Defaults to git's commit.gpgSign or tag.gpgSign.",
    ),
]
LockTimeoutOption = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        min=0.0,
        help="Seconds to wait for another gitreg writer in this repository to finish.",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the published entry as JSON on standard output.")
]


def model_publish(
    path: PathOption,
    version: VersionOption,
    name: NameOption = None,
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="JSON file with a flat object of metric names and numbers."),
    ] = None,
    client: ClientOption = None,
    cleanliness: CleanlinessOption = None,
    release: ReleaseOption = None,
    notes: NotesOption = None,
    sign: SignOption = None,
    lock_timeout: LockTimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    json_output: JsonOption = False,
) -> None:
    """Publish a model: one commit on the current branch and a tag model/NAME@vVERSION."""
    from gitreg.registry import PublishRequest

    request = PublishRequest(
        kind="model",
        path=path,
        version=version,
        name=name,
        metrics_path=metrics,
        client=client,
        cleanliness=cleanliness,
        release=release,
        notes=notes,
    )
    _run(request, sign=sign, lock_timeout=lock_timeout, json_output=json_output)


def dataset_register(
    path: PathOption,
    version: VersionOption,
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows",
            help="Number of rows. Required unless the file tells it (Parquet); checked against it.",
        ),
    ] = None,
    name: NameOption = None,
    client: ClientOption = None,
    cleanliness: CleanlinessOption = None,
    release: ReleaseOption = None,
    notes: NotesOption = None,
    sign: SignOption = None,
    lock_timeout: LockTimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    json_output: JsonOption = False,
) -> None:
    """Register a dataset: one commit on the current branch and a tag dataset/NAME@vVERSION."""
    from gitreg.registry import PublishRequest

    request = PublishRequest(
        kind="dataset",
        path=path,
        version=version,
        name=name,
        rows=rows,
        client=client,
        cleanliness=cleanliness,
        release=release,
        notes=notes,
    )
    _run(request, sign=sign, lock_timeout=lock_timeout, json_output=json_output)


def _run(
    request: PublishRequest, *, sign: bool | None, lock_timeout: float, json_output: bool
) -> None:
    # The core is imported here, so that --help does not pay for pygit2 and pydantic.
    from gitreg.registry import publish

    result = publish(request, cwd=Path.cwd(), sign=sign, lock_timeout=lock_timeout)
    if json_output:
        render.print_json(render.publish_json(result))
        return
    render.publish_text(result)


def register(app: typer.Typer) -> None:
    app.command("model-publish")(model_publish)
    app.command("dataset-register")(dataset_register)


__all__ = ["register"]
