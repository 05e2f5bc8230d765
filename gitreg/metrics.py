"""Metrics files: a flat JSON object of finite numbers."""

from __future__ import annotations

import math
from pathlib import Path

from gitreg import jsonread
from gitreg.errors import ManifestError, UsageError

MetricValue = int | float


def read_metrics(path: Path) -> dict[str, MetricValue]:
    """Read a metrics file.

    A UTF-8 byte order mark and CRLF line ends are accepted.

    Raises:
        UsageError: the file is missing, not UTF-8 JSON, not an object, or holds a
            value that is not a finite number; the message gives file, line and column.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"metrics file '{path}' not found", hint="pass the path of a JSON file"
        ) from None
    except IsADirectoryError:
        raise UsageError(
            f"metrics file '{path}' is a directory", hint="pass the path of a JSON file"
        ) from None
    try:
        text = jsonread.decode(data, source=str(path))
        document = jsonread.loads(text, source=str(path))
    except ManifestError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    if not isinstance(document, dict):
        raise UsageError(
            f"{path}:1:1: metrics must be a JSON object, not {type(document).__name__}",
            hint='write it as {"rmse": 0.12, "r2": 0.89}',
        )
    for name, value in document.items():
        _check_value(name, value, text, path)
    return document


def check_metric_range(name: str, value: MetricValue) -> None:
    """Reject an integer metric given in memory (not read from a file) beyond 2**53 - 1.

    Raises:
        UsageError: the integer is too large for JSON readers and for orjson.
    """
    if isinstance(value, int) and abs(value) > jsonread.MAX_JSON_INTEGER:
        raise UsageError(
            f"metric '{name}' is an integer beyond 2**53 - 1, "
            "which JSON readers cannot hold exactly",
            hint="send it as a float with an exponent, such as 1.5e+30",
        )


def _check_value(name: str, value: object, text: str, path: Path) -> None:
    # Integers are checked before math.isfinite, which overflows on huge ones.
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) <= jsonread.MAX_JSON_INTEGER:
            return
        line, column = jsonread.locate(text, (name,)) or (1, 1)
        raise UsageError(
            f"{path}:{line}:{column}: metric '{name}' is an integer beyond 2**53 - 1, "
            "which JSON readers cannot hold exactly",
            hint="write it as a float with an exponent, such as 1.5e+30",
        )
    if isinstance(value, float) and math.isfinite(value):
        return
    line, column = jsonread.locate(text, (name,)) or (1, 1)
    raise UsageError(
        f"{path}:{line}:{column}: metric '{name}' must be a finite number, "
        f"not {_describe(value)}",
        hint="metrics are a flat object of numbers; move other data into --notes",
    )


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a nested object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return repr(value)
