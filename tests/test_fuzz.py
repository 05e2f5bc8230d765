"""Property tests of the manifest format, names, versions and the strict JSON readers."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pygit2
import pytest
import semver
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gitreg import jsonread
from gitreg.entries import DatasetEntry, Entry, ModelEntry
from gitreg.errors import GitregError, ManifestError, RejectedError, UsageError
from gitreg.manifest import ENTRY_KEYS, Kind, Manifest, empty_manifest, parse, serialize
from gitreg.metrics import read_metrics
from gitreg.names import check_client, check_name, name_problem
from gitreg.versions import parse_version, precedence_key

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Whole manifests cost about 30 ms an example to build and validate; fewer keep the run short.
FUZZ_MANIFESTS = settings(FUZZ, max_examples=100)


def _error_of(call: Callable[[], object]) -> GitregError | None:
    """Return the GitregError that ``call`` raises, or None; other exceptions propagate."""
    try:
        call()
    except GitregError as exc:
        return exc
    return None


LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
NUMBERS = st.integers(min_value=0, max_value=10**6)
PRERELEASE_IDENTIFIER = st.one_of(
    NUMBERS.map(str),
    st.text(alphabet=ALNUM + "-", min_size=1, max_size=8).filter(lambda part: not part.isdigit()),
)
BUILD_IDENTIFIER = st.text(alphabet=ALNUM + "-", min_size=1, max_size=8)


def _starting_with(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from(first), st.text(alphabet=rest, max_size=max_size))


@st.composite
def versions(draw: st.DrawFn) -> str:
    core = ".".join(str(draw(NUMBERS)) for _ in range(3))
    prerelease = draw(st.lists(PRERELEASE_IDENTIFIER, max_size=3))
    build = draw(st.lists(BUILD_IDENTIFIER, max_size=2))
    text = core
    if prerelease:
        text += "-" + ".".join(prerelease)
    if build:
        text += "+" + ".".join(build)
    return text


NAMES = _starting_with(ALNUM, ALNUM + "._-", 30).filter(lambda name: name_problem(name) is None)
TIMESTAMPS = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(9999, 1, 1),
).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
FINITE = st.one_of(
    st.integers(min_value=-jsonread.MAX_JSON_INTEGER, max_value=jsonread.MAX_JSON_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
)
SHA256 = st.binary(min_size=32, max_size=32).map(bytes.hex)
PATH_PART = _starting_with(ALNUM + "_", ALNUM + "_.-", 10)
ARTIFACTS = st.lists(
    st.lists(PATH_PART, min_size=1, max_size=3).map("/".join),
    min_size=1,
    max_size=3,
    unique=True,
).map(tuple)
OPTIONAL_TEXT = st.none() | st.text(max_size=40)


@st.composite
def entries(draw: st.DrawFn, kind: Kind) -> Entry:
    common: dict[str, Any] = {
        "id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        "name": draw(NAMES),
        "version": draw(versions()),
        "created_at": draw(TIMESTAMPS),
        "sha256": draw(SHA256),
        "artifacts": draw(ARTIFACTS),
        "cleanliness_score": draw(st.none() | st.integers(0, 100)),
        "release_tag": draw(st.none() | st.text(min_size=1, max_size=20)),
        "client": draw(st.none() | _starting_with(LOWER, LOWER + "._-", 15)),
        "notes": draw(OPTIONAL_TEXT),
    }
    if kind == "model":
        metrics = draw(st.dictionaries(st.text(max_size=12), FINITE, max_size=4))
        return ModelEntry.model_validate({**common, "metrics": metrics})
    return DatasetEntry.model_validate(
        {
            **common,
            "row_count": draw(st.integers(0, jsonread.MAX_JSON_INTEGER)),
            "schema_hash": draw(st.none() | SHA256),
        }
    )


def _build(kind: Kind, items: list[Entry], updated_at: str) -> Manifest:
    manifest = empty_manifest(kind, updated_at=updated_at)
    for entry in items:
        try:
            manifest = manifest.with_entry(entry, updated_at=updated_at)
        except RejectedError:
            continue  # The same name and precedence drawn twice.
    return manifest


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    kind: Kind = draw(st.sampled_from(["model", "dataset"]))
    items = draw(st.lists(entries(kind), max_size=6))
    return _build(kind, items, draw(TIMESTAMPS))


# The manifest format ----------------------------------------------------------------


@FUZZ_MANIFESTS
@given(manifests())
def test_manifest_round_trip(manifest: Manifest) -> None:
    data = serialize(manifest)
    parsed = parse(data, kind=manifest.kind, source="fuzz.json")
    assert parsed == manifest
    assert serialize(parsed) == data


@FUZZ_MANIFESTS
@given(st.data())
def test_manifest_order_independent(data: st.DataObject) -> None:
    kind: Kind = data.draw(st.sampled_from(["model", "dataset"]))
    items = data.draw(st.lists(entries(kind), max_size=6))
    shuffled = data.draw(st.permutations(items))
    keys = [(entry.name, precedence_key(entry.version)) for entry in items]
    assume(len(set(keys)) == len(keys))
    first = serialize(_build(kind, items, "2024-01-01T00:00:00Z"))
    second = serialize(_build(kind, list(shuffled), "2024-01-01T00:00:00Z"))
    assert first == second


@FUZZ_MANIFESTS
@given(manifests())
def test_manifest_canonical_form(manifest: Manifest) -> None:
    text = serialize(manifest).decode("utf-8")
    document = json.loads(text)
    entry_class = ModelEntry if manifest.kind == "model" else DatasetEntry
    listed = document[ENTRY_KEYS[manifest.kind]]
    indents = {len(line) - len(line.lstrip(" ")) for line in text.splitlines()}
    assert text.endswith("}\n")
    assert "\r" not in text
    assert all(indent % 2 == 0 for indent in indents)
    assert list(document) == ["$schema", "version", "updated_at", ENTRY_KEYS[manifest.kind]]
    assert all(list(entry) == list(entry_class.model_fields) for entry in listed)
    assert listed == sorted(
        listed, key=lambda entry: (entry["name"], precedence_key(entry["version"]))
    )


@FUZZ_MANIFESTS
@given(manifests(), st.data())
def test_manifest_damage_reported(manifest: Manifest, data: st.DataObject) -> None:
    original = serialize(manifest)
    cut = data.draw(st.integers(0, len(original) - 1))
    flipped = data.draw(st.binary(min_size=1, max_size=3))
    damaged = original[:cut] + flipped + original[cut + len(flipped) :]
    assume(damaged != original)
    error = _error_of(lambda: parse(damaged, kind=manifest.kind, source="fuzz.json"))
    if error is not None:
        assert isinstance(error, ManifestError)
        assert error.message.startswith("fuzz.json")
        assert "\n" not in error.message


@FUZZ
@given(st.binary(max_size=300))
def test_manifest_bytes_never_crash(data: bytes) -> None:
    error = _error_of(lambda: parse(data, kind="model", source="fuzz.json"))
    if error is not None:
        assert isinstance(error, ManifestError)
        assert error.message.startswith("fuzz.json")


# Names and versions -----------------------------------------------------------------


@FUZZ
@given(st.text(max_size=40))
def test_name_checks_agree(text: str) -> None:
    problem = name_problem(text)
    if problem is None:
        assert check_name(text) == text
        assert pygit2.reference_is_valid_name(f"refs/tags/model/{text}@v1.0.0")
    else:
        with pytest.raises(UsageError):
            check_name(text)


@FUZZ
@given(NAMES)
def test_valid_names_make_tags(name: str) -> None:
    assert pygit2.reference_is_valid_name(f"refs/tags/dataset/{name}@v1.0.0-rc.1+b.2")


@FUZZ
@given(st.text(max_size=30))
def test_client_check_total(text: str) -> None:
    error = _error_of(lambda: check_client(text))
    if error is None:
        assert "\n" not in text
    else:
        assert isinstance(error, UsageError)
        assert text in error.message


@FUZZ
@given(versions())
def test_valid_versions_accepted(text: str) -> None:
    assert str(parse_version(text)) == text
    assert pygit2.reference_is_valid_name(f"refs/tags/model/m@v{text}")


@FUZZ
@given(versions(), versions())
def test_precedence_matches_semver(left: str, right: str) -> None:
    expected = semver.Version.parse(left).compare(right)
    actual = (precedence_key(left) > precedence_key(right)) - (
        precedence_key(left) < precedence_key(right)
    )
    assert actual == expected


@FUZZ
@given(st.text(max_size=30))
def test_version_check_total(text: str) -> None:
    error = _error_of(lambda: parse_version(text))
    if error is None:
        assert semver.Version.is_valid(text)
    else:
        assert isinstance(error, UsageError)
        assert error.hint


# Metrics and strict JSON ------------------------------------------------------------


@FUZZ
@given(
    st.dictionaries(st.text(max_size=12), FINITE, max_size=6),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, 2, 4]),
)
def test_metrics_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    metrics: dict[str, float],
    bom: bool,
    crlf: bool,
    indent: int | None,
) -> None:
    text = json.dumps(metrics, indent=indent)
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path_factory.mktemp("metrics") / "m.json"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    assert read_metrics(path) == metrics


@FUZZ
@given(st.binary(max_size=200))
def test_metrics_bytes_never_crash(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("metrics") / "m.json"
    path.write_bytes(data)
    results: list[dict[str, float]] = []
    error = _error_of(lambda: results.append(read_metrics(path)))
    if error is None:
        assert all(math.isfinite(value) for value in results[0].values())
    else:
        assert isinstance(error, UsageError)
        assert error.message.startswith(f"{path}:")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | FINITE | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(JSON_VALUES, st.sampled_from([None, 1, 2]))
def test_strict_loads_agrees(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert jsonread.loads(text, source="fuzz.json") == json.loads(text)


@FUZZ
@given(st.text(max_size=120))
def test_strict_loads_total(text: str) -> None:
    error = _error_of(lambda: jsonread.loads(text, source="fuzz.json"))
    if error is not None:
        line, column = error.message.split(":")[1:3]
        assert int(line) >= 1
        assert int(column) >= 1


@FUZZ_MANIFESTS
@given(JSON_VALUES.filter(lambda value: isinstance(value, dict) and value), st.data())
def test_duplicate_key_located(value: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    text = json.dumps(value, indent=1)
    duplicated = text[:-1] + f",\n {json.dumps(key)}: 0\n}}"
    with pytest.raises(ManifestError, match="duplicate key") as caught:
        jsonread.loads(duplicated, source="fuzz.json")
    line = int(caught.value.message.split(":")[1])
    assert duplicated.splitlines()[line - 1].lstrip().startswith(json.dumps(key))
