"""The application factory: checks the set-up, then mounts the endpoints."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from gitreg import __version__
from gitreg.api.auth import scope_dependency
from gitreg.api.errors import install_handlers
from gitreg.api.keys import KeyStore
from gitreg.api.routes import Reader, read_router
from gitreg.api.source import RegistrySource
from gitreg.errors import GitError, UsageError
from gitreg.gitrepo import Repository

logger = logging.getLogger(__name__)

API_PREFIX = "/api/registry"


def create_app(
    repo_path: Path,
    ref: str | None = None,
    key_file: Path | None = None,
    allow_writes: bool = False,
) -> FastAPI:
    """Build the API for the repository at ``repo_path``, serving ``ref`` (HEAD's branch if None).

    Raises:
        GitError: no repository at ``repo_path``, ``ref`` does not resolve, or writes
            were requested on a bare repository or for a ref other than the
            checked-out branch.
        UsageError: writes were requested without a key file, or the key file is
            malformed.
    """
    repo = Repository.discover(repo_path)
    workdir = _check_writes(repo, ref, key_file) if allow_writes else None
    keys = KeyStore(key_file) if key_file is not None else None
    source = RegistrySource(repo, ref)
    snapshot = source.snapshot()
    _log_start(repo, source, snapshot.commit, keys, allow_writes=allow_writes)

    app = FastAPI(
        title="gitreg registry API",
        version=__version__,
        description="Models and datasets as committed on one git ref of a gitreg registry.",
    )
    app.state.source = source
    install_handlers(app, writes_enabled=allow_writes)
    authenticate = scope_dependency(keys)
    reader = Reader(source)
    app.include_router(
        read_router(reader, authenticate, auth=keys is not None, writes=allow_writes),
        prefix=API_PREFIX,
    )
    if workdir is not None:
        from gitreg.api.writes import write_router

        app.include_router(write_router(workdir, authenticate), prefix=API_PREFIX)
    return app


def _check_writes(repo: Repository, ref: str | None, key_file: Path | None) -> Path:
    """Return the work tree that writes go to, after checking writes can be served."""
    if key_file is None:
        raise UsageError(
            "--allow-writes needs --keys: writes are allowed only for writer keys",
            hint="create a writer key with "
            "'gitreg api-key add --keys FILE --name NAME --all-clients --writer'",
        )
    workdir = repo.workdir
    if ref is not None:
        branch = repo.head_state().branch
        if repo.reference_name(ref) != branch:
            raise GitError(
                f"--ref {ref} is not the checked-out branch {branch}, "
                "so published entries would not be served",
                hint="drop --ref, or check out that branch, when serving with --allow-writes",
            )
    return workdir


def _log_start(
    repo: Repository,
    source: RegistrySource,
    commit: str | None,
    keys: KeyStore | None,
    *,
    allow_writes: bool,
) -> None:
    at = commit[:12] if commit is not None else "no commits yet"
    logger.info("serving %s at %s (%s)", repo.git_dir, source.ref_label, at)
    if keys is None:
        logger.warning("no key file: the API is open to anyone who can reach it")
    else:
        count = len(keys.current().records)
        logger.info("API keys required: %d keys in %s", count, keys.path)
    if allow_writes:
        logger.warning(
            "writes are enabled for writer keys; publishes commit as the server's git identity"
        )
