"""Registry entries and manifests as validated, immutable values.

These pydantic models mirror the JSON Schemas in ``schemas/``; a test proves that
both accept and reject the same documents. Field order here is the canonical key
order of the manifest files.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from gitreg.errors import UsageError
from gitreg.manifest import MANIFEST_FORMAT_VERSION as MANIFEST_FORMAT_VERSION
from gitreg.manifest import SCHEMA_REFERENCE as SCHEMA_REFERENCE
from gitreg.manifest import Kind
from gitreg.names import CLIENT_PATTERN, name_problem
from gitreg.versions import precedence_key

UUID4_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
# A repository-relative POSIX path: no leading '/', no backslash, no empty, '.' or '..' part.
ARTIFACT_FORBIDDEN_PATTERN = r"(^/|\\|//|(^|/)\.\.?(/|$)|/$)"

# The JSON Schema reads '$' as ECMA 262 does (only at the very end), so Python's
# '$', which also matches before a final newline, becomes '\Z' here.
_ARTIFACT_FORBIDDEN = re.compile(ARTIFACT_FORBIDDEN_PATTERN.replace("$", r"\Z"))


def _integral_float_to_int(value: Any) -> Any:
    """Accept 50.0 where an integer is due, as JSON Schema's "integer" type does."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


MetricValue = Annotated[StrictInt | StrictFloat, Field(allow_inf_nan=False)]
Sha256 = Annotated[StrictStr, Field(pattern=SHA256_PATTERN)]
Timestamp = Annotated[StrictStr, Field(pattern=TIMESTAMP_PATTERN)]
EntryId = Annotated[StrictStr, Field(pattern=UUID4_PATTERN)]
Artifacts = Annotated[tuple[StrictStr, ...], Field(min_length=1)]
Integer = Annotated[StrictInt, BeforeValidator(_integral_float_to_int)]
Cleanliness = Annotated[Integer, Field(ge=0, le=100)] | None
ReleaseTag = Annotated[StrictStr, Field(min_length=1, max_length=255)] | None
Client = Annotated[StrictStr, Field(pattern=CLIENT_PATTERN)] | None
Notes = Annotated[StrictStr, Field(max_length=10_000)] | None


class Entry(BaseModel):
    """Validation and behaviour shared by model and dataset entries.

    The fields are declared on each subclass, because pydantic keeps declaration
    order and the canonical key order puts ``type`` and the kind-specific fields in
    the middle of the shared ones.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    if TYPE_CHECKING:
        # The shared fields as the type checker sees them; pydantic never runs this
        # block, so the subclasses' declarations alone fix the canonical key order.
        id: str
        name: str
        version: str
        type: Literal["model", "dataset"]
        created_at: str
        sha256: str
        artifacts: tuple[str, ...]
        cleanliness_score: int | None
        release_tag: str | None
        client: str | None
        notes: str | None

    @field_validator("name", check_fields=False)
    @classmethod
    def _valid_name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem is not None:
            raise ValueError(f"name '{value}' is not valid: {problem}")
        return value

    @field_validator("version", check_fields=False)
    @classmethod
    def _valid_version(cls, value: str) -> str:
        try:
            precedence_key(value)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("artifacts", check_fields=False)
    @classmethod
    def _relative_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not path or _ARTIFACT_FORBIDDEN.search(path):
                raise ValueError(f"artifact path '{path}' is not a repository-relative POSIX path")
        return value

    @property
    def kind(self) -> Literal["model", "dataset"]:
        return self.type

    @property
    def tag_name(self) -> str:
        """The annotated tag that marks the commit which added this entry."""
        return f"{self.kind}/{self.name}@v{self.version}"

    def to_json_dict(self) -> dict[str, Any]:
        """Return the entry as a plain dict in canonical key order."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """Return the SHA-256 of the entry's compact canonical JSON."""
        return hashlib.sha256(orjson.dumps(self.to_json_dict())).hexdigest()


class ModelEntry(Entry):
    """One published version of a model."""

    id: EntryId
    name: StrictStr
    version: StrictStr
    type: Literal["model"] = "model"
    created_at: Timestamp
    sha256: Sha256
    metrics: dict[StrictStr, MetricValue]
    artifacts: Artifacts
    cleanliness_score: Cleanliness
    release_tag: ReleaseTag
    client: Client
    notes: Notes

    @field_validator("metrics")
    @classmethod
    def _sorted_metrics(cls, value: dict[str, int | float]) -> dict[str, int | float]:
        # Canonical form: metric names sorted, so the order in the metrics file
        # never changes the manifest bytes.
        return dict(sorted(value.items()))


class DatasetEntry(Entry):
    """One registered version of a dataset."""

    id: EntryId
    name: StrictStr
    version: StrictStr
    type: Literal["dataset"] = "dataset"
    created_at: Timestamp
    sha256: Sha256
    row_count: Annotated[Integer, Field(ge=0)]
    schema_hash: Sha256 | None
    artifacts: Artifacts
    cleanliness_score: Cleanliness
    release_tag: ReleaseTag
    client: Client
    notes: Notes


class ManifestDocument(BaseModel):
    """The fields of a manifest file around its entry array."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_ref: StrictStr = Field(alias="$schema")
    version: Literal["1.0.0"]
    updated_at: Timestamp


class ModelManifestDocument(ManifestDocument):
    """A whole ``releases.json``."""

    models: tuple[ModelEntry, ...]


class DatasetManifestDocument(ManifestDocument):
    """A whole ``catalog.json``."""

    datasets: tuple[DatasetEntry, ...]


def manifest_document_class(kind: Kind) -> type[ManifestDocument]:
    """Return the pydantic model of a whole manifest of one kind."""
    return ModelManifestDocument if kind == "model" else DatasetManifestDocument
