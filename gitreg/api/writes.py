"""The write endpoints, mounted only with ``--allow-writes``: publish, register, verify.

Publishing goes through ``gitreg.registry.publish``, the code path of the command
line, so it commits and signs with the server's git identity and configuration
and serialises with other writers on the repository lock.
"""

import asyncio
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from gitreg.api.errors import ApiError, documented
from gitreg.api.keys import Scope
from gitreg.api.payloads import (
    CheckOutcome,
    DatasetRegistered,
    ModelPublished,
    PublishModelBody,
    RegisterDatasetBody,
    VerifyResult,
)
from gitreg.api.routes import ScopeDependency
from gitreg.entries import DatasetEntry, ModelEntry
from gitreg.errors import (
    GitError,
    GitregError,
    LockTimeoutError,
    ManifestError,
    RejectedError,
    SigningError,
    UsageError,
)
from gitreg.gitrepo import Repository
from gitreg.registry import PublishRequest, PublishResult, publish
from gitreg.verify import verify_current

logger = logging.getLogger(__name__)

# Status and error code for each failure a publish can raise, most specific first.
_PUBLISH_FAILURES: tuple[tuple[type[GitregError], int, str], ...] = (
    (UsageError, 422, "invalid_request"),
    (RejectedError, 409, "rejected"),
    (LockTimeoutError, 503, "registry_busy"),
    (GitError, 409, "repository_state"),
    (SigningError, 500, "signing_failed"),
    (ManifestError, 500, "manifest_invalid"),
)


# The core words its errors for the command line; over HTTP the same values are body
# fields and query parameters. Most specific first.
_API_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"with --rows N\b"), "in the row_count field"),
    (re.compile(r"--rows\b"), "row_count"),
    (re.compile(r"--cleanliness\b"), "cleanliness_score"),
    (re.compile(r"--release\b"), "release_tag"),
    (re.compile(r"--notes\b"), "notes"),
    (re.compile(r"--no-hash\b"), "rehash=false"),
)


def api_words(text: str) -> str:
    """Return ``text`` with command-line options replaced by their API names."""
    for pattern, replacement in _API_WORDS:
        text = pattern.sub(replacement, text)
    return text


def _writer(scope: Scope) -> Scope:
    if not scope.writer:
        raise ApiError(
            403,
            "forbidden",
            f"API key '{scope.key_name}' is read-only",
            hint="publish with a key created with 'gitreg api-key add --writer'",
        )
    return scope


def _client_for(scope: Scope, requested: str | None) -> str | None:
    """Return the client to publish for: the requested one if the key covers it."""
    if scope.clients is None:
        return requested
    if requested is None:
        if len(scope.clients) == 1:
            return next(iter(scope.clients))
        raise ApiError(
            422,
            "invalid_request",
            f"API key '{scope.key_name}' covers several clients, so the body must name one",
            hint='add "client": one of ' + ", ".join(sorted(scope.clients)),
        )
    if requested not in scope.clients:
        raise ApiError(
            403,
            "forbidden",
            f"API key '{scope.key_name}' may not publish for client '{requested}'",
            hint="use a key bound to that client",
        )
    return requested


async def _publish(request: PublishRequest, *, workdir: Path, scope: Scope) -> PublishResult:
    try:
        result = await run_in_threadpool(publish, request, cwd=workdir)
    except GitregError as exc:
        status, code = next((s, c) for kind, s, c in _PUBLISH_FAILURES if isinstance(exc, kind))
        logger.warning(
            "%s %s %s by key %s failed: %s",
            "publish" if request.kind == "model" else "register",
            request.kind,
            request.name,
            scope.key_name,
            exc,
        )
        headers = {"Retry-After": "1"} if status == 503 else None
        hint = api_words(exc.hint) if exc.hint else None
        raise ApiError(status, code, api_words(exc.message), hint=hint, headers=headers) from None
    logger.info("key %s published %s at %s", scope.key_name, result.tag, result.commit)
    return result


def _request(body: PublishModelBody | RegisterDatasetBody, client: str | None) -> PublishRequest:
    common: dict[str, Any] = {
        "path": body.artifacts[0],
        "version": body.version,
        "name": body.name,
        "client": client,
        "cleanliness": body.cleanliness_score,
        "release": body.release_tag,
        "notes": body.notes,
    }
    if isinstance(body, PublishModelBody):
        return PublishRequest(kind="model", metrics=body.metrics, **common)
    return PublishRequest(kind="dataset", rows=body.row_count, **common)


def write_router(workdir: Path, scope_dependency: ScopeDependency) -> APIRouter:
    """Return the write endpoints; they publish into the work tree at ``workdir``."""
    router = APIRouter()
    publish_failures = documented(400, 401, 403, 409, 422, 500, 503)
    verify_lock = asyncio.Lock()

    @router.post(
        "/models",
        status_code=201,
        response_model=ModelPublished,
        responses=publish_failures,
        operation_id="publishModel",
    )
    async def publish_model(
        scope: Annotated[Scope, Depends(scope_dependency)], body: PublishModelBody
    ) -> ModelPublished:
        """Publish a model: a commit and an annotated tag on the checked-out branch."""
        client = _client_for(_writer(scope), body.client)
        result = await _publish(_request(body, client), workdir=workdir, scope=scope)
        assert isinstance(result.entry, ModelEntry)
        return ModelPublished(
            success=True,
            message=f"Model published: {result.entry.name} v{result.entry.version}",
            model=result.entry,
            commit=result.commit,
            tag=result.tag,
            signed=result.signed,
        )

    @router.post(
        "/datasets",
        status_code=201,
        response_model=DatasetRegistered,
        responses=publish_failures,
        operation_id="registerDataset",
    )
    async def register_dataset(
        scope: Annotated[Scope, Depends(scope_dependency)], body: RegisterDatasetBody
    ) -> DatasetRegistered:
        """Register a dataset: a commit and an annotated tag on the checked-out branch."""
        client = _client_for(_writer(scope), body.client)
        result = await _publish(_request(body, client), workdir=workdir, scope=scope)
        assert isinstance(result.entry, DatasetEntry)
        return DatasetRegistered(
            success=True,
            message=f"Dataset registered: {result.entry.name} v{result.entry.version}",
            dataset=result.entry,
            commit=result.commit,
            tag=result.tag,
            signed=result.signed,
        )

    @router.post(
        "/verify",
        response_model=VerifyResult,
        responses=documented(401, 403, 422, 500),
        operation_id="verifyRegistry",
    )
    async def verify(
        scope: Annotated[Scope, Depends(scope_dependency)],
        rehash: Annotated[
            bool, Query(description="Rehash every artifact; false checks everything else.")
        ] = True,
    ) -> VerifyResult:
        """Verify the work tree: manifests, artifact hashes and tags."""
        if not scope.all_clients:
            raise ApiError(
                403,
                "forbidden",
                f"API key '{scope.key_name}' is limited to some clients, "
                "and the verify report names every client's entries",
                hint="verify with a key created with 'gitreg api-key add --all-clients'",
            )
        async with verify_lock:
            return await run_in_threadpool(_verify, workdir, rehash=rehash)

    return router


def _verify(workdir: Path, *, rehash: bool) -> VerifyResult:
    # A fresh Repository per call: pygit2 objects are not shared across threads.
    report = verify_current(Repository.discover(workdir), rehash=rehash)
    return VerifyResult(
        valid=report.valid,
        errors=report.errors,
        warnings=[api_words(warning) for warning in report.warnings],
        models_checked=report.models_checked,
        datasets_checked=report.datasets_checked,
        artifacts_hashed=report.artifacts_hashed,
        checks=[
            CheckOutcome(
                name=check.name,
                description=check.description,
                passed=check.passed,
                skipped=check.skipped,
                failures=check.failures,
            )
            for check in report.checks
        ],
    )
