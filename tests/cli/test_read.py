"""``list``, ``fetch`` and ``stats``: the text blocks and the JSON documents."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from tests.conftest import Cli, git
from tests.helpers import MODELS, commit, manifest_json, publish_model, register_dataset, write


@pytest.fixture
def filled(cli: Cli, repo: Path) -> Path:
    """Two clients' models and datasets, with metrics, scores and releases."""
    commit(repo, {"m.json": '{"rmse": 0.12, "r2": 0.89}', "model.bin": b"w", "data.bin": b"d"})
    publish_model(cli, repo, "--name", "forecast_v1", "--client", "acme-corp",
                  "--cleanliness", "93", "--release", "v1.0.0", "--metrics", "m.json",
                  "--notes", "Initial production model")
    publish_model(cli, repo, "--name", "forecast_v1", "--client", "acme-corp",
                  "--cleanliness", "96", "--release", "v1.1.0", version="2.0.0")
    publish_model(cli, repo, "--name", "churn", "--client", "other-corp")
    register_dataset(cli, repo, "--name", "sales", "--client", "acme-corp",
                     "--cleanliness", "95", "--rows", "3200000")
    return repo


def test_list_json_shape(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", "--json", cwd=filled)
    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert list(document) == ["count", "models"]
    assert document["count"] == 3
    assert document["models"] == manifest_json(filled)["models"]


def test_list_filters_client(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", "--client", "acme-corp", "--json", cwd=filled)
    models = json.loads(result.stdout)["models"]
    assert [(m["name"], m["version"]) for m in models] == [
        ("forecast_v1", "1.0.0"),
        ("forecast_v1", "2.0.0"),
    ]


def test_list_filters_release(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", "--release", "v1.1.0", "--json", cwd=filled)
    assert [m["version"] for m in json.loads(result.stdout)["models"]] == ["2.0.0"]


def test_list_datasets_json(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "dataset", "--json", cwd=filled)
    document = json.loads(result.stdout)
    assert list(document) == ["count", "datasets"]
    assert document["datasets"][0]["row_count"] == 3200000


def test_list_table(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", cwd=filled)
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines[0].startswith("┏")
    header = [cell.strip() for cell in lines[1].strip("┃").split("┃")]
    assert header == ["Name", "Version", "Client", "Cleanliness", "Release", "Created"]
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines[3:-1]]
    assert rows[0][:5] == ["churn", "1.0.0", "other-corp", "-", "-"]
    assert rows[1][:5] == ["forecast_v1", "1.0.0", "acme-corp", "93/100", "v1.0.0"]
    assert rows[2][:5] == ["forecast_v1", "2.0.0", "acme-corp", "96/100", "v1.1.0"]
    assert len(rows[0][5]) == len("2025-10-15")


def test_list_empty_registry(cli: Cli, repo: Path) -> None:
    result = cli("list", "--type", "model", "--json", cwd=repo)
    assert json.loads(result.stdout) == {"count": 0, "models": []}


def test_list_empty_registry_says_so(cli: Cli, repo: Path) -> None:
    result = cli("list", "--type", "model", "--json", cwd=repo)
    assert result.stderr == "no models match\n"


def test_list_no_match_keeps_table(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", "--client", "nobody", cwd=filled)
    assert result.exit_code == 0
    assert "Name" in result.stdout


def test_list_no_match_says_so(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "dataset", "--client", "nobody", "--release", "v9", cwd=filled)
    assert result.stderr == "no datasets match --client nobody --release v9\n"


def test_list_no_match_json(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", "--release", "v9", "--json", cwd=filled)
    assert json.loads(result.stdout) == {"count": 0, "models": []}


def test_list_matches_quiet(cli: Cli, filled: Path) -> None:
    result = cli("list", "--type", "model", "--client", "acme-corp", cwd=filled)
    assert result.stderr == ""


def test_fetch_json_missing_stdout_empty(cli: Cli, filled: Path) -> None:
    result = cli("fetch", "--type", "model", "--name", "nope", "--json", cwd=filled)
    assert result.exit_code == 1
    assert result.stdout == ""


def test_list_rejects_bad_type(cli: Cli, repo: Path) -> None:
    result = cli("list", "--type", "pipeline", cwd=repo)
    assert result.exit_code == 2
    assert "pipeline" in result.stderr


def test_fetch_text_block(cli: Cli, filled: Path) -> None:
    result = cli("fetch", "--name", "forecast_v1", "--type", "model", "--version", "1.0.0",
                 cwd=filled)
    entry = manifest_json(filled)["models"][1]
    assert result.stdout.splitlines() == [
        "Model: forecast_v1 v1.0.0",
        f"ID: {entry['id']}",
        f"Created: {entry['created_at']}",
        f"SHA256: {entry['sha256']}",
        "",
        "Artifacts:",
        "  model.bin (exists)",
        "",
        "Metrics:",
        "  r2: 0.89",
        "  rmse: 0.12",
        "",
        "Cleanliness Score: 93/100",
        "Release: v1.0.0",
        "Client: acme-corp",
        "Notes: Initial production model",
    ]


def test_fetch_latest_json(cli: Cli, filled: Path) -> None:
    result = cli("fetch", "--name", "forecast_v1", "--type", "model", "--json", cwd=filled)
    document = json.loads(result.stdout)
    assert document == manifest_json(filled)["models"][2]
    assert document["version"] == "2.0.0"


def test_fetch_missing_artifact_marked(cli: Cli, filled: Path) -> None:
    (filled / "model.bin").unlink()
    result = cli("fetch", "--name", "churn", "--type", "model", cwd=filled)
    assert "  model.bin (missing)" in result.stdout.splitlines()
    assert "  (none)" in result.stdout.splitlines()


def test_fetch_dataset_block(cli: Cli, filled: Path) -> None:
    result = cli("fetch", "--name", "sales", "--type", "dataset", cwd=filled)
    lines = result.stdout.splitlines()
    assert lines[0] == "Dataset: sales v1.0.0"
    assert "Rows: 3200000" in lines
    assert "Schema hash: -" in lines
    assert "Metrics:" not in lines


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (("--name", "nope"), "model 'nope' not found", 1),
        (("--name", "churn", "--version", "9.9.9"), "model 'churn' version 9.9.9 not found", 1),
        (("--name", "churn", "--version", "v1"), "version 'v1' is not valid SemVer", 2),
    ],
)
def test_fetch_errors(
    cli: Cli, filled: Path, args: tuple[str, ...], expected: str, code: int
) -> None:
    result = cli("fetch", "--type", "model", *args, cwd=filled)
    assert result.exit_code == code
    assert expected in result.stderr
    assert result.stdout == ""


def test_stats_json_shape(cli: Cli, filled: Path) -> None:
    result = cli("stats", "--json", cwd=filled)
    assert json.loads(result.stdout) == {
        "models_total": 3,
        "datasets_total": 1,
        "models_by_client": {"acme-corp": 2, "other-corp": 1},
        "datasets_by_client": {"acme-corp": 1},
        "avg_model_cleanliness": 94.5,
        "avg_dataset_cleanliness": 95.0,
    }


def test_stats_text_block(cli: Cli, filled: Path) -> None:
    result = cli("stats", cwd=filled)
    assert result.stdout.splitlines() == [
        "Registry Statistics",
        "",
        "Total Models: 3",
        "Total Datasets: 1",
        "Avg Model Cleanliness: 94.5/100",
        "Avg Dataset Cleanliness: 95.0/100",
        "",
        "Models by Client:",
        "  acme-corp: 2",
        "  other-corp: 1",
        "",
        "Datasets by Client:",
        "  acme-corp: 1",
    ]


def test_stats_empty_registry(cli: Cli, repo: Path) -> None:
    result = cli("stats", cwd=repo)
    lines = result.stdout.splitlines()
    assert "Avg Model Cleanliness: -" in lines
    assert lines[-1] == "  (none)"


def test_reads_from_bare_clone(cli: Cli, filled: Path, tmp_path: Path) -> None:
    git(filled, "add", MODELS)
    bare = tmp_path / "mirror.git"
    pygit2.clone_repository(str(filled), str(bare), bare=True)
    listed = cli("list", "--type", "model", "--json", cwd=bare)
    fetched = cli("fetch", "--name", "churn", "--type", "model", cwd=bare)
    assert json.loads(listed.stdout)["count"] == 3
    assert "  model.bin" in fetched.stdout.splitlines()


def test_broken_manifest_reported(cli: Cli, filled: Path) -> None:
    write(filled, MODELS, '{"models": [}')
    result = cli("list", "--type", "model", cwd=filled)
    assert result.exit_code == 1
    assert f"error: {MODELS}:1:13: invalid JSON" in result.stderr


def test_list_piped_keeps_long_names(cli: Cli, repo: Path) -> None:
    long_name = "diabetes_gradient_boosting_regressor_with_a_long_descriptive_name"
    commit(repo, {"model.bin": b"w"})
    publish_model(cli, repo, "--name", long_name, "--release", "release-candidate-2026-12-04")
    result = cli("list", "--type", "model", cwd=repo)
    assert result.exit_code == 0
    assert long_name in result.stdout
    assert "release-candidate-2026-12-04" in result.stdout
