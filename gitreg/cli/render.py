"""Text and JSON output of the commands. Standard output carries data only."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Any

import orjson
import typer

from gitreg.entries import DatasetEntry, Entry, ModelEntry
from gitreg.registry import PublishResult, Stats
from gitreg.verify import VerifyReport


class KindChoice(str, enum.Enum):
    """The ``--type`` values."""

    model = "model"
    dataset = "dataset"


def print_json(document: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
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


def entry_block(entry: Entry, *, workdir: Path | None) -> None:
    lines = [
        f"{entry.kind.title()}: {entry.name} v{entry.version}",
        f"ID: {entry.id}",
        f"Created: {entry.created_at}",
        f"SHA256: {entry.sha256}",
        "",
        "Artifacts:",
    ]
    for artifact in entry.artifacts:
        state = ""
        if workdir is not None:
            state = " (exists)" if (workdir / artifact).is_file() else " (missing)"
        lines.append(f"  {artifact}{state}")
    if isinstance(entry, ModelEntry):
        lines += ["", "Metrics:", *(_metric_lines(entry.metrics) or ["  (none)"])]
    if isinstance(entry, DatasetEntry):
        lines += ["", f"Rows: {entry.row_count}", f"Schema hash: {entry.schema_hash or '-'}"]
    score = "-" if entry.cleanliness_score is None else f"{entry.cleanliness_score}/100"
    lines += [
        "",
        f"Cleanliness Score: {score}",
        f"Release: {entry.release_tag or '-'}",
        f"Client: {entry.client or '-'}",
    ]
    if entry.notes:
        lines.append(f"Notes: {entry.notes}")
    typer.echo("\n".join(lines))


def entry_table(entries: list[Entry]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column, justify in (
        ("Name", "left"),
        ("Version", "left"),
        ("Client", "left"),
        ("Cleanliness", "right"),
        ("Release", "left"),
        ("Created", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for entry in entries:
        score = "-" if entry.cleanliness_score is None else f"{entry.cleanliness_score}/100"
        table.add_row(
            entry.name,
            entry.version,
            entry.client or "-",
            score,
            entry.release_tag or "-",
            entry.created_at[:10],
        )
    Console(soft_wrap=False).print(table)


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
    for title, counts in (
        ("Models by Client", figures.models_by_client),
        ("Datasets by Client", figures.datasets_by_client),
    ):
        lines += ["", f"{title}:"]
        lines += [f"  {client}: {count}" for client, count in counts.items()] or ["  (none)"]
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
