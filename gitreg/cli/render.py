"""Text and JSON output of the commands. Standard output carries data only."""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Any

import orjson
import typer

if TYPE_CHECKING:
    # Only for annotations: importing these at run time would load pydantic and
    # pygit2 for every command, even --help.
    from gitreg.registry import PublishResult, Stats
    from gitreg.verify import VerifyReport


class KindChoice(str, enum.Enum):
    """The ``--type`` values."""

    model = "model"
    dataset = "dataset"


def print_json(document: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def print_entry_list_json(key: str, count: int, entries_text: bytes) -> None:
    """Print ``{"count": count, key: [...]}`` as ``print_json`` would.

    ``entries_text`` is the canonical text of the entries inside a manifest. The
    entries stand at the same depth in this document, so that text is exactly
    what ``print_json`` would write for them, and it is copied instead of being
    decoded and encoded again.
    """
    head = orjson.dumps({"count": count, key: [0]}, option=orjson.OPT_INDENT_2)
    head = head[: head.rindex(b"\n    0\n") + 1]
    sys.stdout.buffer.write(head + entries_text + b"\n  ]\n}\n")
    sys.stdout.flush()


def _metric_lines(metrics: dict[str, int | float]) -> list[str]:
    return [f"  {name}: {value}" for name, value in metrics.items()]


def publish_json(result: PublishResult) -> dict[str, Any]:
    return {
        "entry": result.entry.to_json_dict(),
        "commit": result.commit,
        "tag": result.tag,
        "signed": result.signed,
    }


def publish_text(result: PublishResult) -> None:
    from gitreg.entries import DatasetEntry, ModelEntry

    entry = result.entry
    verb, done = ("Publishing", "published")
    if entry.kind == "dataset":
        verb, done = ("Registering", "registered")
    lines = [
        f"{verb} {entry.kind}: {entry.name} v{entry.version}",
        f"Artifact: {', '.join(entry.artifacts)}",
        f"✓ {entry.kind.title()} {done} successfully",
        f"ID: {entry.id}",
        f"SHA256: {entry.sha256}",
    ]
    if isinstance(entry, DatasetEntry):
        lines.append(f"Rows: {entry.row_count}")
    signed = "signed" if result.signed else "unsigned"
    lines.append(f"Commit: {result.commit[:12]} ({signed})")
    lines.append(f"Tag: {result.tag}")
    if isinstance(entry, ModelEntry) and entry.metrics:
        lines += ["", "Metrics:", *_metric_lines(entry.metrics)]
    typer.echo("\n".join(lines))


def entry_block(entry: dict[str, Any], *, present: dict[str, bool] | None) -> None:
    """Print one entry, given as a plain dict in manifest form."""
    lines = [
        f"{entry['type'].title()}: {entry['name']} v{entry['version']}",
        f"ID: {entry['id']}",
        f"Created: {entry['created_at']}",
        f"SHA256: {entry['sha256']}",
        "",
        "Artifacts:",
    ]
    for artifact in entry["artifacts"]:
        state = ""
        if present is not None:
            state = " (exists)" if present[artifact] else " (missing)"
        lines.append(f"  {artifact}{state}")
    if entry["type"] == "model":
        lines += ["", "Metrics:", *(_metric_lines(entry["metrics"]) or ["  (none)"])]
    else:
        lines += ["", f"Rows: {entry['row_count']}", f"Schema hash: {entry['schema_hash'] or '-'}"]
    cleanliness = entry["cleanliness_score"]
    score = "-" if cleanliness is None else f"{cleanliness}/100"
    lines += [
        "",
        f"Cleanliness Score: {score}",
        f"Release: {entry['release_tag'] or '-'}",
        f"Client: {entry['client'] or '-'}",
    ]
    if entry["notes"]:
        lines.append(f"Notes: {entry['notes']}")
    typer.echo("\n".join(lines))


_UNBOUNDED_WIDTH = 100_000

_TABLE_COLUMNS = (
    ("Name", "left"),
    ("Version", "left"),
    ("Client", "left"),
    ("Cleanliness", "right"),
    ("Release", "left"),
    ("Created", "left"),
)


def _table_row(entry: dict[str, Any]) -> tuple[str, ...]:
    cleanliness = entry["cleanliness_score"]
    return (
        entry["name"],
        entry["version"],
        entry["client"] or "-",
        "-" if cleanliness is None else f"{cleanliness}/100",
        entry["release_tag"] or "-",
        entry["created_at"][:10],
    )


def entry_table(entries: list[dict[str, Any]]) -> None:
    """Print entries, given as plain dicts in manifest form, as a table."""
    from rich.console import Console
    from rich.table import Table

    rows = [_table_row(entry) for entry in entries]
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        # Piped output has no width to fit; cutting names there would lose data.
        console = Console(soft_wrap=False, width=_UNBOUNDED_WIDTH)
    if console.color_system is None:
        text = plain_table(rows, max_width=console.width)
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
    table = Table()
    for column, justify in _TABLE_COLUMNS:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _plain_cell(text: str) -> bool:
    # rich reads "[" as markup and ":name:" as an emoji code, and measures
    # non-ASCII text by terminal cell width; such cells are left to rich.
    return text.isascii() and text.isprintable() and "[" not in text and ":" not in text


def plain_table(rows: list[tuple[str, ...]], *, max_width: int) -> str | None:
    """Return the entry table exactly as rich draws it without colour, or None.

    rich measures every cell through its layout engine, which takes seconds for
    10,000 rows. This draws the same box (rich's default ``HEAVY_HEAD``, one space
    of padding) directly. It returns None where rich would do more than that: a
    table wider than ``max_width``, which rich wraps, or a cell that needs rich's
    markup, emoji or Unicode width handling.
    """
    headers = tuple(column for column, _ in _TABLE_COLUMNS)
    if not all(_plain_cell(cell) for row in rows for cell in row):
        return None
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    if sum(widths) + 3 * len(widths) + 1 > max_width:
        return None
    right = [justify == "right" for _, justify in _TABLE_COLUMNS]

    def line(cells: tuple[str, ...], edge: str, divider: str) -> str:
        padded = [
            cell.rjust(width) if is_right else cell.ljust(width)
            for cell, width, is_right in zip(cells, widths, right, strict=True)
        ]
        return f"{edge} " + f" {divider} ".join(padded) + f" {edge}\n"

    def rule(left: str, fill: str, cross: str, end: str) -> str:
        return left + cross.join(fill * (width + 2) for width in widths) + end + "\n"

    parts = [rule("┏", "━", "┳", "┓"), line(headers, "┃", "┃"), rule("┡", "━", "╇", "┩")]
    parts.extend(line(row, "│", "│") for row in rows)
    parts.append(rule("└", "─", "┴", "┘"))
    return "".join(parts)


def stats_json(figures: Stats) -> dict[str, Any]:
    return {
        "models_total": figures.models_total,
        "datasets_total": figures.datasets_total,
        "models_by_client": figures.models_by_client,
        "datasets_by_client": figures.datasets_by_client,
        "avg_model_cleanliness": figures.avg_model_cleanliness,
        "avg_dataset_cleanliness": figures.avg_dataset_cleanliness,
    }


def _average(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}/100"


def stats_text(figures: Stats) -> None:
    lines = [
        "Registry Statistics",
        "",
        f"Total Models: {figures.models_total}",
        f"Total Datasets: {figures.datasets_total}",
        f"Avg Model Cleanliness: {_average(figures.avg_model_cleanliness)}",
        f"Avg Dataset Cleanliness: {_average(figures.avg_dataset_cleanliness)}",
    ]
    for title, counts, without in (
        ("Models by Client", figures.models_by_client, figures.models_without_client),
        ("Datasets by Client", figures.datasets_by_client, figures.datasets_without_client),
    ):
        lines += ["", f"{title}:"]
        rows = [f"  {client}: {count}" for client, count in counts.items()]
        rows += [f"  (no client): {without}"] if without else []
        lines += rows or ["  (none)"]
    typer.echo("\n".join(lines))


def verify_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "valid": report.valid,
        "errors": report.errors,
        "warnings": report.warnings,
        "notes": report.notes,
        "models_checked": report.models_checked,
        "datasets_checked": report.datasets_checked,
        "artifacts_hashed": report.artifacts_hashed,
        "commits_walked": report.commits_walked,
        "registry_commits": report.registry_commits,
        "signatures_checked": report.signatures_checked,
        "manifests_compared": report.manifests_compared,
        "checks": [
            {
                "name": check.name,
                "description": check.description,
                "passed": check.passed,
                "skipped": check.skipped,
                "failures": check.failures,
            }
            for check in report.checks
        ],
    }


def verify_text(report: VerifyReport) -> None:
    lines = [
        f"Models checked: {report.models_checked}",
        f"Datasets checked: {report.datasets_checked}",
        f"Commits walked: {report.commits_walked} ({report.registry_commits} changed the registry)",
        f"Signatures checked: {report.signatures_checked}",
        "",
    ]
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"! {warning}" for warning in report.warnings]
    if report.valid:
        lines.append("✓ All integrity checks passed")
    else:
        errors = report.errors
        lines.append(f"✗ {len(errors)} problem{'s' if len(errors) != 1 else ''} found:")
        lines += [f"  - {error}" for error in errors]
    typer.echo("\n".join(lines))
