"""Request and response bodies of the HTTP API, as pydantic models for OpenAPI."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from gitreg.entries import DatasetEntry, MetricValue, ModelEntry
from gitreg.names import CLIENT_PATTERN

# SemVer 2.0.0 as semver.org gives it, with [0-9] for \d so that only ASCII digits match.
SEMVER_PATTERN = (
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)

# gitreg.names.name_problem as one regular expression, so that the OpenAPI document
# states the whole rule: dot-separated parts of letters, digits, '_' and '-', the
# first starting with a letter or digit, and a last part after a dot other than
# "lock". JSON Schema engines differ on lookahead, so the pattern spells out the
# four-character parts that are not "lock".
_PART = "[A-Za-z0-9_-]"
_NOT_LOCK = (
    f"(?:{_PART}{{1,3}}|{_PART}{{5,}}|[A-Za-km-z0-9_-]{_PART}{{3}}|l[A-Za-np-z0-9_-]{_PART}{{2}}"
    f"|lo[A-Zabd-z0-9_-]{_PART}|loc[A-Za-jl-z0-9_-])"
)
ENTRY_NAME_PATTERN = f"^[A-Za-z0-9]{_PART}*(?:(?:\\.{_PART}+)*\\.{_NOT_LOCK})?$"

# A release tag must be a valid git tag name; the pattern states a portable subset
# of that rule (slash-separated parts built like entry names, '+' allowed), so that
# every value it admits passes the core's check.
_TAG_NOT_LOCK = _NOT_LOCK.replace("_-]", "_+-]")
_TAG_COMPONENT = f"[A-Za-z0-9_+-]+(?:(?:\\.[A-Za-z0-9_+-]+)*\\.{_TAG_NOT_LOCK})?"
RELEASE_TAG_PATTERN = f"^{_TAG_COMPONENT}(?:/{_TAG_COMPONENT})*$"

EntryName = Annotated[StrictStr, Field(pattern=ENTRY_NAME_PATTERN, max_length=100)]
Version = Annotated[StrictStr, Field(pattern=SEMVER_PATTERN, max_length=256)]
ClientSlug = Annotated[StrictStr, Field(pattern=CLIENT_PATTERN)]
ReleaseTag = Annotated[
    StrictStr, Field(min_length=1, max_length=255, pattern=RELEASE_TAG_PATTERN)
]


def _whole_float_to_int(value: object) -> object:
    # JSON Schema counts 3.0 as an integer, and some JSON encoders write every number
    # as a float. Strings and booleans still fail the strict check.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _encodable(value: str) -> str:
    # JSON allows lone surrogates such as "\ud800", which no UTF-8 manifest or file
    # name can hold.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"contains a lone surrogate at position {exc.start}") from None
    return value


Text = Annotated[StrictStr, AfterValidator(_encodable)]
# A file name cannot contain NUL.
ArtifactPath = Annotated[StrictStr, Field(pattern=r"^[^\x00]+$"), AfterValidator(_encodable)]
Cleanliness = Annotated[StrictInt, Field(ge=0, le=100), BeforeValidator(_whole_float_to_int)]
RowCount = Annotated[StrictInt, Field(ge=0), BeforeValidator(_whole_float_to_int)]


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(description="Machine-readable error code, such as not_found.")
    message: str = Field(description="What failed, naming the value.")
    hint: str | None = Field(default=None, description="What to do next, where known.")


class ModelList(BaseModel):
    """Models that passed the filters, sorted by name and SemVer precedence."""

    count: int
    models: list[ModelEntry]


class DatasetList(BaseModel):
    """Datasets that passed the filters, sorted by name and SemVer precedence."""

    count: int
    datasets: list[DatasetEntry]


class RegistryMetrics(BaseModel):
    """Aggregate figures over the entries the API key can see."""

    models_total: int
    datasets_total: int
    models_by_client: dict[str, int]
    datasets_by_client: dict[str, int]
    avg_model_cleanliness: float | None
    avg_dataset_cleanliness: float | None


class Health(BaseModel):
    """Whether the server can read the ref and both manifests on it."""

    status: Literal["ok", "degraded"]
    ref: str = Field(description="The served ref, or HEAD for the checked-out branch.")
    commit: str | None = Field(description="The commit served now; null before the first commit.")
    manifests: dict[str, Literal["ok", "invalid", "unavailable"]]
    auth: Literal["open", "api-key"]
    writes: bool


class _PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: EntryName
    version: Version
    artifacts: list[ArtifactPath] = Field(
        min_length=1,
        max_length=1,
        description=(
            "Exactly one path (at most 1 item): the artifact inside the repository "
            "work tree. The file must exist there."
        ),
    )
    client: ClientSlug | None = Field(
        default=None,
        description="Client slug. Defaults to the key's client when the key has exactly one.",
    )
    cleanliness_score: Cleanliness | None = None
    release_tag: ReleaseTag | None = None
    notes: Annotated[Text, Field(max_length=10_000)] | None = None


class PublishModelBody(_PublishBody):
    """A model to publish from an artifact already in the server's work tree."""

    metrics: dict[Text, MetricValue] = Field(default_factory=dict)


class RegisterDatasetBody(_PublishBody):
    """A dataset to register from an artifact already in the server's work tree."""

    row_count: RowCount | None = Field(
        default=None, description="Number of rows; required unless the file records it (Parquet)."
    )


class ModelPublished(BaseModel):
    """The published model and the commit and tag that record it."""

    success: Literal[True]
    message: str
    model: ModelEntry
    commit: str
    tag: str
    signed: bool


class DatasetRegistered(BaseModel):
    """The registered dataset and the commit and tag that record it."""

    success: Literal[True]
    message: str
    dataset: DatasetEntry
    commit: str
    tag: str
    signed: bool


class CheckOutcome(BaseModel):
    """One verification check."""

    name: str
    description: str
    passed: StrictBool
    skipped: StrictBool
    failures: list[str]


class VerifyResult(BaseModel):
    """The result of verifying the work tree of the server's repository."""

    valid: StrictBool
    errors: list[str]
    warnings: list[str]
    models_checked: int
    datasets_checked: int
    artifacts_hashed: int
    checks: list[CheckOutcome]
