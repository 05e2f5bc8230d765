"""The fast paths of the manifest format: splicing, reading validated bytes, the cache."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitreg import manifest_cache
from gitreg.entries import DatasetEntry, ModelEntry
from gitreg.errors import ManifestError, RejectedError
from gitreg.manifest import (
    EntryList,
    Kind,
    Manifest,
    empty_manifest,
    entry_class,
    from_validated_bytes,
    is_canonical,
    parse,
    serialize,
)
from gitreg.manifest_cache import ManifestCache
from gitreg.registry import filter_documents, filter_entries

STAMP = "2024-05-01T10:00:00Z"


def model(
    name: str, version: str, *, client: str | None = "acme", notes: str | None = None
) -> ModelEntry:
    seed = hashlib.sha256(f"{name}@{version}".encode()).hexdigest()
    return ModelEntry.model_validate(
        {
            "id": f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-8{seed[17:20]}-{seed[20:32]}",
            "name": name,
            "version": version,
            "created_at": STAMP,
            "sha256": seed,
            "metrics": {"accuracy": 0.5, "loss": 2},
            "artifacts": [f"models/{name}.bin"],
            "cleanliness_score": 90,
            "release_tag": "v1",
            "client": client,
            "notes": notes,
        }
    )


def dataset(name: str, version: str) -> DatasetEntry:
    seed = hashlib.sha256(f"{name}@{version}".encode()).hexdigest()
    return DatasetEntry.model_validate(
        {
            "id": f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-a{seed[17:20]}-{seed[20:32]}",
            "name": name,
            "version": version,
            "created_at": STAMP,
            "sha256": seed,
            "row_count": 3,
            "schema_hash": None,
            "artifacts": [f"data/{name}.csv"],
            "cleanliness_score": None,
            "release_tag": None,
            "client": None,
            "notes": None,
        }
    )


def full_bytes(manifest: Manifest) -> bytes:
    """Serialize from the entries alone, ignoring any canonical bytes the manifest carries."""
    fresh = Manifest(
        kind=manifest.kind,
        updated_at=manifest.updated_at,
        entries=tuple(manifest.entries),
        schema_ref=manifest.schema_ref,
        version=manifest.version,
    )
    return serialize(fresh)


def canonical(kind: Kind, entries: list[ModelEntry] | list[DatasetEntry]) -> bytes:
    built = empty_manifest(kind, updated_at=STAMP)
    for entry in entries:
        built = built.with_entry(entry, updated_at=STAMP)
    return serialize(built)


# Splicing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version"),
    [("aaa", "1.0.0"), ("m", "0.5.0"), ("m", "1.5.0"), ("m", "3.0.0"), ("zzz", "1.0.0")],
)
def test_splice_matches_full_serialization(name: str, version: str) -> None:
    base = canonical("model", [model("m", "1.0.0"), model("m", "2.0.0"), model("n", "1.0.0")])
    parsed = parse(base, kind="model", source="test")
    updated = parsed.with_entry(model(name, version), updated_at="2025-01-01T00:00:00.5Z")
    assert serialize(updated) == full_bytes(updated)


def test_splice_into_single_entry() -> None:
    parsed = parse(canonical("model", [model("m", "1.0.0")]), kind="model", source="test")
    updated = parsed.with_entry(model("a", "1.0.0"), updated_at=STAMP)
    assert serialize(updated) == full_bytes(updated)


def test_splice_dataset_manifest() -> None:
    base = canonical("dataset", [dataset("d", "1.0.0"), dataset("e", "1.0.0")])
    parsed = parse(base, kind="dataset", source="test")
    updated = parsed.with_entry(dataset("d", "1.1.0"), updated_at=STAMP)
    assert serialize(updated) == full_bytes(updated)


def test_splice_keeps_escaped_text() -> None:
    notes = 'line one\n    {\n"quoted" \\ é \u2028'
    base = canonical("model", [model("m", "1.0.0", notes=notes)])
    parsed = parse(base, kind="model", source="test")
    updated = parsed.with_entry(model("m", "0.1.0", notes=notes), updated_at=STAMP)
    assert serialize(updated) == full_bytes(updated)


def test_parsed_canonical_bytes_are_kept() -> None:
    base = canonical("model", [model("m", "1.0.0")])
    assert is_canonical(parse(base, kind="model", source="test"))


def test_non_canonical_bytes_are_rewritten() -> None:
    base = canonical("model", [model("m", "1.0.0")])
    compact = orjson.dumps(orjson.loads(base))
    parsed = parse(compact, kind="model", source="test")
    updated = parsed.with_entry(model("n", "1.0.0"), updated_at=STAMP)
    assert not is_canonical(parsed)
    assert serialize(updated) == full_bytes(updated)


def test_unexpected_layout_falls_back() -> None:
    base = canonical("model", [model("m", "1.0.0")])
    parsed = replace(parse(base, kind="model", source="t"), _canonical=base.replace(b"{", b"{ "))
    updated = parsed.with_entry(model("n", "1.0.0"), updated_at=STAMP)
    assert serialize(updated) == full_bytes(updated)


def test_duplicate_still_rejected() -> None:
    parsed = parse(canonical("model", [model("m", "1.0.0")]), kind="model", source="test")
    with pytest.raises(RejectedError, match="already exists"):
        parsed.with_entry(model("m", "1.0.0+build"), updated_at=STAMP)


versions = st.tuples(
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from(["", "-rc.1", "-alpha", "-1"]),
).map(lambda parts: f"{parts[0]}.{parts[1]}.0{parts[2]}")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b-1", "c.x"]), versions), max_size=12))
def test_splice_sequence_matches(plan: list[tuple[str, str]]) -> None:
    current = parse(canonical("model", [model("b-1", "9.9.9")]), kind="model", source="t")
    for name, version in plan:
        if current.find(name, version) is not None:
            continue
        current = current.with_entry(model(name, version), updated_at=STAMP)
        assert serialize(current) == full_bytes(current)


# Reading validated bytes ---------------------------------------------------------


def test_validated_bytes_equal_parse() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "2.0.0-rc.1")])
    assert from_validated_bytes(base, kind="model") == parse(base, kind="model", source="t")


def test_entry_list_builds_entries() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "1.0.0")])
    entries = from_validated_bytes(base, kind="model").entries
    assert entries[-1] == model("n", "1.0.0")
    assert entries[0:1] == (model("m", "1.0.0"),)
    assert isinstance(entries[0], entry_class("model"))


def test_entry_list_compares() -> None:
    entries = EntryList.of_entries("model", [model("m", "1.0.0")])
    assert entries == [model("m", "1.0.0")]
    assert entries != "m"
    assert repr(entries) == "EntryList(1 model entries)"


def test_versions_of_reads_keys() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("m", "2.0.0"), model("n", "1.0.0")])
    found = from_validated_bytes(base, kind="model").versions_of("m")
    assert [entry.version for entry in found] == ["1.0.0", "2.0.0"]


def test_filter_documents_matches_entries() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "1.0.0", client="other")])
    read = from_validated_bytes(base, kind="model")
    documents = filter_documents(read, client="other")
    assert documents == [e.to_json_dict() for e in filter_entries(read, client="other")]


def test_entry_classes_attribute() -> None:
    from gitreg import manifest

    assert manifest.ENTRY_CLASSES["dataset"] is DatasetEntry
    with pytest.raises(AttributeError):
        _ = manifest.NO_SUCH_NAME


# The cache of validated bytes ------------------------------------------------------


def test_cache_records_parsed_bytes(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    base = canonical("model", [model("m", "1.0.0")])
    cache.load(base, kind="model", source="t")
    expected = manifest_cache.record_key(base, kind="model")
    assert cache.file.read_text(encoding="ascii").split() == [expected]


def test_cache_skips_recorded_bytes(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    base = canonical("model", [model("m", "1.0.0")])
    invalid = base.replace(b'"cleanliness_score": 90', b'"cleanliness_score": 900')
    cache.remember(invalid, kind="model")
    assert len(cache.load(invalid, kind="model", source="t").entries) == 1


def test_cache_validates_changed_bytes(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    base = canonical("model", [model("m", "1.0.0")])
    cache.load(base, kind="model", source="t")
    changed = base.replace(b'"cleanliness_score": 90', b'"cleanliness_score": 900')
    with pytest.raises(ManifestError, match="cleanliness_score"):
        cache.load(changed, kind="model", source="t")


def test_cache_ignores_other_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ManifestCache(tmp_path)
    base = canonical("model", [model("m", "1.0.0")])
    invalid = base.replace(b'"cleanliness_score": 90', b'"cleanliness_score": 900')
    cache.remember(invalid, kind="model")
    monkeypatch.setattr(manifest_cache, "__version__", "99.0.0")
    with pytest.raises(ManifestError):
        cache.load(invalid, kind="model", source="t")


def test_cache_ignores_other_kind(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    base = canonical("model", [model("m", "1.0.0")])
    cache.remember(base, kind="model")
    with pytest.raises(ManifestError):
        cache.load(base, kind="dataset", source="t")


def test_cache_keeps_recent_records(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    for index in range(manifest_cache.MAX_RECORDS + 5):
        cache.remember(b"%d" % index, kind="model")
    lines = cache.file.read_text(encoding="ascii").split()
    assert len(lines) == manifest_cache.MAX_RECORDS
    assert lines[-1] == manifest_cache.record_key(b"20", kind="model")


def test_cache_skips_non_canonical(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    compact = orjson.dumps(orjson.loads(canonical("model", [model("m", "1.0.0")])))
    cache.load(compact, kind="model", source="t")
    assert not cache.file.exists()


def test_cache_unwritable_still_reads(tmp_path: Path) -> None:
    (tmp_path / "gitreg").write_text("a file where the folder belongs", encoding="utf-8")
    cache = ManifestCache(tmp_path)
    base = canonical("model", [model("m", "1.0.0")])
    assert len(cache.load(base, kind="model", source="t").entries) == 1


def test_cache_failed_write_leaves_no_file(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path)
    cache.file.mkdir(parents=True)
    cache.remember(b"x", kind="model")
    assert [path.name for path in cache.file.parent.iterdir()] == ["validated-manifests"]


# Commands ------------------------------------------------------------------------


def test_publish_records_new_manifest(cli: object, repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    result = cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo)  # type: ignore[operator]
    data = (repo / "models/registry/releases.json").read_bytes()
    records = (repo / ".git/gitreg/validated-manifests").read_text(encoding="ascii").split()
    assert result.exit_code == 0, result.stderr
    assert manifest_cache.record_key(data, kind="model") in records


def test_list_validates_hand_edit(cli: object, repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo)  # type: ignore[operator]
    cli("list", "--type", "model", "--json", cwd=repo)  # type: ignore[operator]
    path = repo / "models/registry/releases.json"
    path.write_bytes(
        path.read_bytes().replace(
            b'"version": "1.0.0",\n      "type"', b'"version": "01.0.0",\n      "type"'
        )
    )
    result = cli("list", "--type", "model", "--json", cwd=repo)  # type: ignore[operator]
    assert result.exit_code == 1
    assert "01.0.0" in result.stderr


def _modules_after(code: str, cwd: Path) -> list[str]:
    heavy = "('pydantic', 'pygit2', 'rich')"
    report = f"print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))"
    probe = f"import json, sys\n{code}\n{report}"
    output = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout
    return list(orjson.loads(output.strip().splitlines()[-1]))


def test_cli_import_is_light(tmp_path: Path) -> None:
    assert _modules_after("import gitreg.cli.app", tmp_path) == []


def test_cached_list_skips_pydantic(cli: object, repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    cli("model-publish", "--path", "model.bin", "--version", "1.0.0", cwd=repo)  # type: ignore[operator]
    code = "from gitreg.cli.app import run\nrun(['list', '--type', 'model', '--json'])"
    assert _modules_after(code, repo) == ["pygit2"]


# Entry access without entry objects -------------------------------------------------


def test_document_from_canonical_text() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "1.0.0")])
    read = from_validated_bytes(base, kind="model")
    assert read.entry_list.document(1) == model("n", "1.0.0").to_json_dict()


def test_document_from_entries() -> None:
    entries = EntryList.of_entries("model", [model("m", "1.0.0")])
    assert entries.document(0) == model("m", "1.0.0").to_json_dict()


def test_documents_from_canonical_bytes() -> None:
    base = canonical("dataset", [dataset("d", "1.0.0"), dataset("e", "1.0.0")])
    documents = from_validated_bytes(base, kind="dataset").entry_list.documents()
    assert documents == [dataset("d", "1.0.0").to_json_dict(), dataset("e", "1.0.0").to_json_dict()]


def test_entries_text_is_array_body() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "1.0.0")])
    text = from_validated_bytes(base, kind="model").entry_list.text()
    assert text is not None
    assert orjson.loads(b"[" + text + b"]") == orjson.loads(base)["models"]


def test_entries_text_unknown_without_bytes() -> None:
    assert EntryList.of_entries("model", [model("m", "1.0.0")]).text() is None


def test_empty_validated_bytes() -> None:
    empty = serialize(empty_manifest("model", updated_at=STAMP))
    read = from_validated_bytes(empty, kind="model")
    assert len(read.entries) == 0
    assert read.entry_list.text() is None


def test_keys_fall_back_to_documents() -> None:
    base = canonical("model", [model("m", "1.0.0")])
    odd = base.replace(b'"name": "m",\n', b'"name": "m" ,\n')
    read = from_validated_bytes(odd, kind="model")
    assert read.position("m", "1.0.0") == 0


def test_insert_into_partly_built_list() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "1.0.0")])
    entries = from_validated_bytes(base, kind="model").entry_list
    grown = entries.inserted(1, model("m", "2.0.0"), canonical=None)
    assert [entry.version for entry in grown] == ["1.0.0", "2.0.0", "1.0.0"]


def test_splice_from_validated_bytes() -> None:
    base = canonical("model", [model("m", "1.0.0"), model("n", "1.0.0")])
    read = from_validated_bytes(base, kind="model")
    updated = read.with_entry(model("m", "1.1.0"), updated_at=STAMP)
    again = updated.with_entry(model("a", "1.1.0"), updated_at=STAMP)
    assert serialize(again) == full_bytes(again)
    assert [entry.name for entry in again.entries] == ["a", "m", "m", "n"]


def test_fetch_document_matches_fetch() -> None:
    from gitreg.registry import fetch, fetch_document

    base = canonical("model", [model("m", "1.0.0"), model("m", "1.2.0"), model("n", "3.0.0")])
    read = from_validated_bytes(base, kind="model")
    assert fetch_document(read, "m") == fetch(read, "m").to_json_dict()
    assert fetch_document(read, "m", "1.0.0") == model("m", "1.0.0").to_json_dict()


# Output that copies canonical text ----------------------------------------------------


def test_list_json_copies_canonical_text(cli: object, repo: Path) -> None:
    from gitreg.cli import render

    (repo / "model.bin").write_bytes(b"weights")
    for version in ("1.0.0", "1.1.0", "0.9.0"):
        cli("model-publish", "--path", "model.bin", "--version", version, cwd=repo)  # type: ignore[operator]
    result = cli("list", "--type", "model", "--json", cwd=repo)  # type: ignore[operator]
    documents = orjson.loads((repo / "models/registry/releases.json").read_bytes())["models"]
    expected = orjson.dumps({"count": 3, "models": documents}, option=orjson.OPT_INDENT_2)
    assert result.stdout.encode() == expected + b"\n"
    assert render.plain_table([], max_width=80) is not None


def _rich_table(rows: list[tuple[str, ...]], width: int = 80) -> str:
    import io

    from rich.console import Console
    from rich.table import Table

    from gitreg.cli import render

    table = Table()
    for column, justify in render._TABLE_COLUMNS:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, soft_wrap=False, width=width, color_system=None).print(table)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [("a", "1.0.0", "-", "93/100", "v1", "2025-10-15")],
        [
            ("forecast_v1", "1.0.0", "acme-corp", "100/100", "v1.0.0", "2025-10-15"),
            ("x", "10.0.0-rc.1", "-", "-", "-", "2025-10-16"),
        ],
    ],
)
def test_plain_table_matches_rich(rows: list[tuple[str, ...]]) -> None:
    from gitreg.cli import render

    assert render.plain_table(rows, max_width=80) == _rich_table(rows)


@pytest.mark.parametrize(
    "row",
    [
        ("n" * 70, "1.0.0", "-", "-", "-", "2025-10-15"),
        ("a", "1.0.0", "-", "-", "[bold]v1", "2025-10-15"),
        ("a", "1.0.0", "-", "-", "release:one", "2025-10-15"),
        ("a", "1.0.0", "-", "-", "größer", "2025-10-15"),
    ],
)
def test_plain_table_leaves_rest_to_rich(row: tuple[str, ...]) -> None:
    from gitreg.cli import render

    assert render.plain_table([row], max_width=80) is None


def test_list_table_with_markup_uses_rich(cli: object, repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    cli("model-publish", "--path", "model.bin", "--version", "1.0.0", "--release", "v1-é", cwd=repo)  # type: ignore[operator]
    result = cli("list", "--type", "model", cwd=repo)  # type: ignore[operator]
    assert "v1-é" in result.stdout


def test_usage_error_exits_two(cli: object, repo: Path) -> None:
    result = cli("list", cwd=repo)  # type: ignore[operator]
    assert result.exit_code == 2


def test_parse_rejects_duplicate_precedence() -> None:
    both = Manifest(
        kind="model", updated_at=STAMP, entries=(model("m", "1.0.0"), model("m", "1.0.0+b"))
    )
    with pytest.raises(ManifestError, match=r"two entries for version 1\.0\.0 and 1\.0\.0\+b"):
        parse(serialize(both), kind="model", source="t")


def test_documents_are_decoded_once() -> None:
    read = from_validated_bytes(canonical("model", [model("m", "1.0.0")]), kind="model")
    assert read.entry_list.documents() is read.entry_list.documents()


def test_fetch_prints_latest(cli: object, repo: Path) -> None:
    (repo / "model.bin").write_bytes(b"weights")
    for version in ("1.0.0", "1.10.0", "1.9.0"):
        cli("model-publish", "--path", "model.bin", "--version", version, cwd=repo)  # type: ignore[operator]
    text = cli("fetch", "--type", "model", "--name", "model", cwd=repo)  # type: ignore[operator]
    json_output = cli("fetch", "--type", "model", "--name", "model", "--json", cwd=repo)  # type: ignore[operator]
    assert text.stdout.startswith("Model: model v1.10.0\n")
    assert "  model.bin (exists)" in text.stdout
    assert orjson.loads(json_output.stdout)["version"] == "1.10.0"


def test_fetch_prints_dataset(cli: object, repo: Path) -> None:
    (repo / "rows.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    registered = cli(
        "dataset-register", "--path", "rows.csv", "--version", "1.0.0", "--rows", "1", cwd=repo
    )  # type: ignore[operator]
    result = cli("fetch", "--type", "dataset", "--name", "rows", cwd=repo)  # type: ignore[operator]
    assert registered.exit_code == 0, registered.stderr
    assert "Rows: 1" in result.stdout
