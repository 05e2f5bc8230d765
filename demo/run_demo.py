"""Run gitreg's main job on real input, in a fresh registry under demo-out/.

The demo registers scikit-learn's diabetes data as a Parquet dataset, trains two
regressors on it, publishes them as versions 1.0.0 and 1.1.0 of one model with
signed commits and tags, then lists, fetches, prints stats and verifies. Every
command is printed before its output. It exits 1 when any step fails.

    python demo/run_demo.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Started as a script, Python puts demo/ on the path, not the project root.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from demo import training  # noqa: E402
from demo.sandbox import (  # noqa: E402
    Shell,
    StepFailedError,
    find_gitreg,
    init_registry,
    isolated_env,
    make_signing_key,
    reset_output_dir,
)

MODEL_NAME = "diabetes_regressor"
DATASET_NAME = "diabetes"
CLIENT = "demo-health"
DATASET_PATH = "data/diabetes.parquet"


def heading(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def relative(path: Path, repo: Path) -> str:
    return path.relative_to(repo).as_posix()


def setup(out: Path) -> Shell:
    """Create the isolated HOME, the signing key and the registry repository."""
    heading(f"Create a fresh registry repository in {out / 'registry'}")
    home = out / "home"
    repo = out / "registry"
    shell = Shell(cwd=out, env=isolated_env(home), gitreg_program=find_gitreg())
    key = home / ".ssh" / "gitreg-demo-signing-key"
    print(f"HOME for every command: {home} (your own git and gpg settings are not used)")
    make_signing_key(shell, key)
    print(f"Throwaway ed25519 signing key: {key}")
    repo_shell = Shell(cwd=repo, env=shell.env, gitreg_program=shell.gitreg_program)
    init_registry(repo_shell, key)
    return repo_shell


def register_dataset(shell: Shell) -> int:
    """Write the diabetes data as Parquet, commit it, register it and return its cleanliness."""
    repo = shell.cwd
    heading("Register scikit-learn's diabetes data as a Parquet dataset")
    table = training.write_diabetes_parquet(repo / DATASET_PATH)
    score = training.cleanliness_score(table)
    print(
        f"Wrote {DATASET_PATH}: {table.num_rows} rows, {table.num_columns} columns; "
        f"cleanliness {score}/100 (complete, finite, unduplicated rows)"
    )
    shell.git("add", DATASET_PATH)
    shell.git("commit", "--quiet", "-m", "Add the diabetes data set as Parquet")
    shell.gitreg(
        "dataset-register",
        "--path", DATASET_PATH,
        "--name", DATASET_NAME,
        "--version", "1.0.0",
        "--rows", str(table.num_rows),
        "--client", CLIENT,
        "--cleanliness", str(score),
        "--release", "v1.0.0",
        "--notes", "scikit-learn load_diabetes(scaled=False): 10 features and the target",
    )  # fmt: skip
    return score


def publish_models(shell: Shell, cleanliness: int) -> None:
    """Train both candidates, commit their files and publish them as 1.0.0 and 1.1.0."""
    repo = shell.cwd
    split = training.load_split(repo / DATASET_PATH)
    for version, candidate in zip(("1.0.0", "1.1.0"), training.candidates(), strict=True):
        heading(f"Train {candidate.description}; publish it as {MODEL_NAME} {version}")
        trained = training.train_and_save(candidate, split, repo / "models")
        model = relative(trained.model_path, repo)
        metrics = relative(trained.metrics_path, repo)
        scores = ", ".join(f"{name} {value}" for name, value in trained.metrics.items())
        print(
            f"Trained on {len(split.y_train)} rows, "
            f"evaluated on {len(split.y_test)} held-out rows: {scores}"
        )
        # Committing the artifact lets every clone rehash it during verify.
        shell.git("add", model, metrics)
        shell.git("commit", "--quiet", "-m", f"Add the {candidate.stem} model and its metrics")
        shell.gitreg(
            "model-publish",
            "--path", model,
            "--name", MODEL_NAME,
            "--version", version,
            "--metrics", metrics,
            "--client", CLIENT,
            "--cleanliness", str(cleanliness),
            "--release", f"v{version}",
            "--notes", candidate.description,
        )  # fmt: skip


def read_back(shell: Shell) -> None:
    """List, fetch the latest, print stats, verify, and check the signatures with git."""
    heading("Read the registry back")
    shell.gitreg("list", "--type", "model")
    shell.gitreg("list", "--type", "dataset")
    shell.gitreg("fetch", "--name", MODEL_NAME, "--type", "model")
    shell.gitreg("stats")

    heading("Verify the registry and the signatures")
    shell.gitreg("verify")
    shell.git("log", "--format=%h %G? %s")
    shell.git("verify-commit", "HEAD")
    shell.git("verify-tag", f"model/{MODEL_NAME}@v1.1.0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=PROJECT_ROOT / "demo-out",
        help="Folder for the registry and its isolated HOME; deleted and recreated each run.",
    )
    out = parser.parse_args(argv).out.resolve()
    try:
        reset_output_dir(out)
        shell = setup(out)
        cleanliness = register_dataset(shell)
        publish_models(shell, cleanliness)
        read_back(shell)
    except StepFailedError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    heading("Done")
    print(
        f"The registry is in {shell.cwd}. Explore it with:\n"
        f"  cd {shell.cwd}\n"
        "  git log --show-signature\n"
        f"  {shell.gitreg_program} fetch --name {DATASET_NAME} --type dataset"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
