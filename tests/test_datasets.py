"""Dataset registration: row counts and schema hashes read from the file itself."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gitreg import datasets
from gitreg.datasets import DatasetFacts, inspect, reconcile_rows
from gitreg.errors import RejectedError, UsageError
from tests.conftest import Cli, snapshot
from tests.helpers import DATASETS, commit, manifest_json, write


def _parquet(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"age": pa.array(range(rows), pa.int64()),
                      "city": pa.array(["x"] * rows, pa.string())})
    pq.write_table(table, path)
    return path


def _register(cli: Cli, repo: Path, path: str, *options: str) -> tuple[int, str]:
    result = cli("dataset-register", "--path", path, "--version", "1.0.0", *options, cwd=repo)
    return result.exit_code, result.stderr


def test_parquet_rows_read(cli: Cli, repo: Path) -> None:
    _parquet(repo / "data/sales.parquet", 42)
    code, stderr = _register(cli, repo, "data/sales.parquet")
    entry = manifest_json(repo, DATASETS)["datasets"][0]
    assert code == 0, stderr
    assert entry["row_count"] == 42
    assert entry["name"] == "sales"


def test_parquet_schema_hash(cli: Cli, repo: Path) -> None:
    _parquet(repo / "a.parquet", 3)
    _register(cli, repo, "a.parquet", "--rows", "3")
    fields = [["age", "int64", True], ["city", "string", True]]
    expected = hashlib.sha256(orjson.dumps(fields)).hexdigest()
    assert manifest_json(repo, DATASETS)["datasets"][0]["schema_hash"] == expected


def test_parquet_hash_ignores_rows(tmp_path: Path) -> None:
    small = inspect(_parquet(tmp_path / "s.parquet", 2), "s.parquet")
    large = inspect(_parquet(tmp_path / "l.parquet", 500), "l.parquet")
    assert small.schema_hash == large.schema_hash
    assert large.row_count == 500


def test_parquet_rows_disagree(cli: Cli, repo: Path) -> None:
    commit(repo, {"keep.txt": "x"})
    _parquet(repo / "d.parquet", 5)
    before = snapshot(repo)
    code, stderr = _register(cli, repo, "d.parquet", "--rows", "6")
    assert code == 1
    assert "--rows 6 disagrees with 'd.parquet', which has 5 rows" in stderr
    assert snapshot(repo) == before


def test_corrupt_parquet_rejected(cli: Cli, repo: Path) -> None:
    write(repo, "bad.parquet", b"not parquet at all")
    code, stderr = _register(cli, repo, "bad.parquet", "--rows", "1")
    assert code == 1
    assert "'bad.parquet' is not a readable Parquet file" in stderr


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UsageError, match="needs pyarrow"):
        inspect(_parquet(tmp_path / "x.parquet", 1), "x.parquet")


def test_csv_header_hash(cli: Cli, repo: Path) -> None:
    write(repo, "d.csv", "id,name\n1,a\n2,b\n")
    code, stderr = _register(cli, repo, "d.csv", "--rows", "2")
    expected = hashlib.sha256(orjson.dumps(["id", "name"])).hexdigest()
    assert code == 0, stderr
    assert manifest_json(repo, DATASETS)["datasets"][0]["schema_hash"] == expected


def test_csv_hash_ignores_bom_and_crlf(tmp_path: Path) -> None:
    plain = write(tmp_path, "a.csv", "id,name\n1,a\n")
    marked = write(tmp_path, "b.csv", b"\xef\xbb\xbfid,name\r\n1,a\r\n")
    assert inspect(plain, "a.csv").schema_hash == inspect(marked, "b.csv").schema_hash


def test_tsv_header_hash(tmp_path: Path) -> None:
    tsv = write(tmp_path, "a.tsv", "id\tname\n")
    expected = hashlib.sha256(orjson.dumps(["id", "name"])).hexdigest()
    assert inspect(tsv, "a.tsv") == DatasetFacts(row_count=None, schema_hash=expected)


def test_empty_csv_no_hash(tmp_path: Path) -> None:
    assert inspect(write(tmp_path, "e.csv", ""), "e.csv").schema_hash is None


def test_csv_header_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(RejectedError, match=r"header row of 'l\.csv' is not UTF-8"):
        inspect(write(tmp_path, "l.csv", b"caf\xe9\n"), "l.csv")


def test_csv_requires_rows(cli: Cli, repo: Path) -> None:
    write(repo, "d.csv", "id\n1\n")
    code, stderr = _register(cli, repo, "d.csv")
    assert code == 2
    assert "the row count of 'd.csv' is unknown" in stderr


def test_other_format_requires_rows(cli: Cli, repo: Path) -> None:
    write(repo, "d.jsonl", '{"a": 1}\n')
    code, stderr = _register(cli, repo, "d.jsonl")
    assert code == 2
    assert "pass it with --rows N" in stderr


def test_other_format_null_hash(cli: Cli, repo: Path) -> None:
    write(repo, "d.jsonl", '{"a": 1}\n')
    code, _ = _register(cli, repo, "d.jsonl", "--rows", "1")
    entry = manifest_json(repo, DATASETS)["datasets"][0]
    assert code == 0
    assert entry["schema_hash"] is None
    assert entry["row_count"] == 1


def test_zero_rows_accepted() -> None:
    assert reconcile_rows(0, DatasetFacts(row_count=None, schema_hash=None), "d") == 0


def test_negative_rows_usage() -> None:
    with pytest.raises(UsageError, match="--rows -1 is negative"):
        reconcile_rows(-1, DatasetFacts(row_count=3, schema_hash=None), "d")


def test_register_json_output(cli: Cli, repo: Path) -> None:
    _parquet(repo / "d.parquet", 4)
    result = cli("dataset-register", "--path", "d.parquet", "--version", "1.0.0", "--json",
                 cwd=repo)
    document = json.loads(result.stdout)
    assert document["entry"]["row_count"] == 4
    assert document["tag"] == "dataset/d@v1.0.0"


def test_module_reads_suffix_case_insensitively(tmp_path: Path) -> None:
    facts = datasets.inspect(_parquet(tmp_path / "UP.PARQUET", 2), "UP.PARQUET")
    assert facts.row_count == 2
