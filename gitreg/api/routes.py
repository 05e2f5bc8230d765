"""The read endpoints: models, datasets, metrics and health."""

# FastAPI reads the annotations at run time, including aliases local to
# ``read_router``, so this module keeps them unpostponed.

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response

from gitreg.api.errors import ApiError, documented
from gitreg.api.keys import Scope
from gitreg.api.payloads import (
    ENTRY_NAME_PATTERN,
    SEMVER_PATTERN,
    DatasetList,
    Health,
    ModelList,
    RegistryMetrics,
)
from gitreg.api.source import ManifestView, RegistrySource, Snapshot
from gitreg.entries import DatasetEntry, Entry, ModelEntry
from gitreg.errors import GitError, ManifestError, RejectedError
from gitreg.manifest import ENTRY_KEYS, KINDS, MANIFEST_PATHS, Kind
from gitreg.names import CLIENT_PATTERN
from gitreg.registry import compute_stats, fetch

logger = logging.getLogger(__name__)

ScopeDependency = Callable[..., Awaitable[Scope]]

ClientFilter = Annotated[
    str | None,
    Query(
        pattern=CLIENT_PATTERN, description="Only entries of this client slug, such as acme-corp."
    ),
]
ReleaseFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=255,
        description="Only entries of this release tag, such as v1.0.0.",
    ),
]
VersionQuery = Annotated[
    str | None,
    Query(
        pattern=SEMVER_PATTERN,
        max_length=256,
        description="SemVer 2.0.0 version. Defaults to the highest precedence the key can see.",
    ),
]
NamePath = Annotated[
    str, Path(pattern=ENTRY_NAME_PATTERN, max_length=100, description="Entry name.")
]


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


class Reader:
    """Turns snapshots of the served ref into responses, hiding what a scope may not see."""

    def __init__(self, source: RegistrySource) -> None:
        self.source = source
        self._ref_failing = False

    def snapshot(self) -> Snapshot:
        try:
            snapshot = self.source.snapshot()
        except GitError as exc:
            if not self._ref_failing:
                logger.error("cannot resolve the served ref %s: %s", self.source.ref_label, exc)
                self._ref_failing = True
            raise ApiError(
                503,
                "ref_not_found",
                f"the served ref {self.source.ref_label} no longer resolves: {exc.message}",
                hint="restore the ref, or restart the server with another --ref",
            ) from None
        if self._ref_failing:
            logger.info("the served ref %s resolves again", self.source.ref_label)
            self._ref_failing = False
        return snapshot

    def view(self, kind: Kind, scope: Scope) -> ManifestView:
        try:
            return self.snapshot().view(kind)
        except ManifestError as exc:
            raise _manifest_failure(kind, scope, exc) from None

    def list_response(
        self, kind: Kind, scope: Scope, client: str | None, release: str | None
    ) -> Response:
        view = self.view(kind, scope)
        return _json(view.list_body(view.select(scope, client=client, release=release)))

    def fetch_response(
        self, kind: Kind, scope: Scope, name: str, version: str | None, client: str | None
    ) -> Response:
        view = self.view(kind, scope)
        where = _visibility(scope, client)
        try:
            entry = fetch(view.manifest, name, version, where=where)
        except RejectedError as exc:
            raise ApiError(
                404,
                "not_found",
                exc.message,
                hint=f"list names with GET /api/registry/{ENTRY_KEYS[kind]}",
            ) from None
        return _json(orjson.dumps(entry.to_json_dict()))

    def metrics(self, scope: Scope) -> RegistryMetrics:
        visible = {kind: self._visible(kind, scope) for kind in KINDS}
        stats = compute_stats(visible["model"], visible["dataset"])
        return RegistryMetrics(
            models_total=stats.models_total,
            datasets_total=stats.datasets_total,
            models_by_client=stats.models_by_client,
            datasets_by_client=stats.datasets_by_client,
            avg_model_cleanliness=stats.avg_model_cleanliness,
            avg_dataset_cleanliness=stats.avg_dataset_cleanliness,
        )

    def _visible(self, kind: Kind, scope: Scope) -> list[Entry]:
        view = self.view(kind, scope)
        return view.entries(view.select(scope, client=None, release=None))

    def health(self, *, auth: bool, writes: bool) -> Health:
        try:
            snapshot = self.snapshot()
        except ApiError:
            return Health(
                status="degraded",
                ref=self.source.ref_label,
                commit=None,
                manifests={ENTRY_KEYS[kind]: "unavailable" for kind in KINDS},
                auth="api-key" if auth else "open",
                writes=writes,
            )
        manifests = {
            ENTRY_KEYS[kind]: "invalid" if isinstance(loaded, ManifestError) else "ok"
            for kind, loaded in snapshot.views.items()
        }
        return Health(
            status="ok" if all(state == "ok" for state in manifests.values()) else "degraded",
            ref=self.source.ref_label,
            commit=snapshot.commit,
            manifests=manifests,  # type: ignore[arg-type]
            auth="api-key" if auth else "open",
            writes=writes,
        )


def _visibility(scope: Scope, client: str | None) -> Callable[[Entry], bool] | None:
    if client is None:
        return None if scope.all_clients else scope.sees
    return lambda entry: entry.client == client and scope.sees(entry)


def _manifest_failure(kind: Kind, scope: Scope, exc: ManifestError) -> ApiError:
    # The parser's message can quote values from any entry, so only a key for every
    # client gets it. The server log always contains it.
    if scope.all_clients:
        message = exc.message
    else:
        message = (
            f"{MANIFEST_PATHS[kind]} on the served ref is invalid; the server log names the problem"
        )
    return ApiError(
        500,
        "manifest_invalid",
        message,
        hint="fix the manifest in a new commit on the served ref; "
        "'gitreg verify' lists every problem",
    )


def read_router(
    reader: Reader, scope_dependency: ScopeDependency, *, auth: bool, writes: bool
) -> APIRouter:
    """Return the read endpoints, each scoped by ``scope_dependency``."""
    router = APIRouter()
    failures: dict[int | str, dict[str, Any]] = documented(*((401,) if auth else ()), 422, 500, 503)
    lookups = {**failures, **documented(404)}

    @router.get("/models", response_model=ModelList, responses=failures, operation_id="listModels")
    async def list_models(
        scope: Annotated[Scope, Depends(scope_dependency)],
        client: ClientFilter = None,
        release: ReleaseFilter = None,
    ) -> Response:
        """List models, sorted by name and SemVer precedence, optionally filtered."""
        return reader.list_response("model", scope, client, release)

    @router.get(
        "/models/{name}", response_model=ModelEntry, responses=lookups, operation_id="getModel"
    )
    async def get_model(
        scope: Annotated[Scope, Depends(scope_dependency)],
        name: NamePath,
        version: VersionQuery = None,
        client: ClientFilter = None,
    ) -> Response:
        """Return one model version, or the latest by SemVer precedence."""
        return reader.fetch_response("model", scope, name, version, client)

    @router.get(
        "/datasets", response_model=DatasetList, responses=failures, operation_id="listDatasets"
    )
    async def list_datasets(
        scope: Annotated[Scope, Depends(scope_dependency)],
        client: ClientFilter = None,
        release: ReleaseFilter = None,
    ) -> Response:
        """List datasets, sorted by name and SemVer precedence, optionally filtered."""
        return reader.list_response("dataset", scope, client, release)

    @router.get(
        "/datasets/{name}",
        response_model=DatasetEntry,
        responses=lookups,
        operation_id="getDataset",
    )
    async def get_dataset(
        scope: Annotated[Scope, Depends(scope_dependency)],
        name: NamePath,
        version: VersionQuery = None,
        client: ClientFilter = None,
    ) -> Response:
        """Return one dataset version, or the latest by SemVer precedence."""
        return reader.fetch_response("dataset", scope, name, version, client)

    @router.get(
        "/metrics", response_model=RegistryMetrics, responses=failures, operation_id="getMetrics"
    )
    async def get_metrics(scope: Annotated[Scope, Depends(scope_dependency)]) -> RegistryMetrics:
        """Return counts and average cleanliness of the entries the key can see."""
        return reader.metrics(scope)

    @router.get("/health", response_model=Health, operation_id="getHealth")
    async def get_health() -> Health:
        """Report whether the ref and both manifests can be read. Needs no API key."""
        return reader.health(auth=auth, writes=writes)

    return router
