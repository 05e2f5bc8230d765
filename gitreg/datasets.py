"""Facts read from dataset files: row counts and schema hashes."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import orjson

from gitreg.errors import RejectedError, UsageError


@dataclass(frozen=True)
class DatasetFacts:
    """Row count and schema hash read from the file; None where the format has none."""

    row_count: int | None
    schema_hash: str | None


def inspect(path: Path, display: str) -> DatasetFacts:
    """Read the row count and schema hash that the file format provides.

    Parquet files (with the ``parquet`` extra) give both; the schema hash is the
    SHA-256 of the Arrow fields as compact JSON ``[[name, type, nullable], ...]``,
    so it ignores writer metadata. CSV files give the hash of the header row.
    Other formats give neither.

    Raises:
        UsageError: the file is Parquet but pyarrow is not installed.
        RejectedError: the file cannot be read in its format.
    """
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _inspect_parquet(path, display)
    if suffix in (".csv", ".tsv"):
        return DatasetFacts(row_count=None, schema_hash=_csv_header_hash(path, display, suffix))
    return DatasetFacts(row_count=None, schema_hash=None)


def _inspect_parquet(path: Path, display: str) -> DatasetFacts:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise UsageError(
            f"'{display}' is a Parquet file, and reading it needs pyarrow",
            hint="install it with: pip install 'gitreg[parquet]'",
        ) from None
    try:
        metadata = parquet.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types
        raise RejectedError(
            f"'{display}' is not a readable Parquet file: {exc}",
            hint="check the file, or register it under a name without the .parquet suffix",
        ) from None
    schema = metadata.schema_arrow
    fields = [[field.name, str(field.type), bool(field.nullable)] for field in schema]
    return DatasetFacts(
        row_count=int(metadata.metadata.num_rows),
        schema_hash=hashlib.sha256(orjson.dumps(fields)).hexdigest(),
    )


def _csv_header_hash(path: Path, display: str, suffix: str) -> str | None:
    delimiter = "\t" if suffix == ".tsv" else ","
    with open(path, "rb") as handle:
        raw = handle.readline(1024 * 1024)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RejectedError(
            f"header row of '{display}' is not UTF-8", hint="save the file as UTF-8"
        ) from None
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows or not rows[0]:
        return None
    return hashlib.sha256(orjson.dumps(rows[0])).hexdigest()


def reconcile_rows(declared: int | None, facts: DatasetFacts, display: str) -> int:
    """Return the row count to record, checking ``--rows`` against the file.

    Raises:
        UsageError: no count was given and the file has none, or the count is negative.
        RejectedError: the given count disagrees with the file.
    """
    if declared is not None and declared < 0:
        raise UsageError(
            f"--rows {declared} is negative", hint="pass the number of rows, 0 or more"
        )
    if facts.row_count is None:
        if declared is None:
            raise UsageError(
                f"the row count of '{display}' is unknown", hint="pass it with --rows N"
            )
        return declared
    if declared is not None and declared != facts.row_count:
        raise RejectedError(
            f"--rows {declared} disagrees with '{display}', which has {facts.row_count} rows",
            hint=f"pass --rows {facts.row_count} or leave --rows out",
        )
    return facts.row_count
