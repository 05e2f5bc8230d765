"""Eight processes publishing into one repository at once lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitreg.lock import LOCK_NAME
from tests.crashkit import MANIFEST, fsck_problems, git_output

WORKERS = 8
PUBLISHES = 25

# One worker: the real CLI entry point run PUBLISHES times in one interpreter, so
# that the test measures contention rather than interpreter start-up.
_WORKER = """
import json, sys
from gitreg.cli.app import run
name, count, report = sys.argv[1], int(sys.argv[2]), sys.argv[3]
codes = [
    run(["model-publish", "--path", name + ".bin", "--name", name, "--version", f"1.0.{i}"])
    for i in range(count)
]
with open(report, "w") as handle:
    json.dump(codes, handle)
sys.exit(0 if set(codes) == {0} else 1)
"""


@pytest.mark.slow
def test_parallel_publishers_lose_nothing(repo: Path, cli: Any, tmp_path: Path) -> None:
    names = [f"worker{number}" for number in range(WORKERS)]
    for name in names:
        (repo / f"{name}.bin").write_bytes(name.encode())
    (repo / ".gitattributes").write_text("*.bin -text\n", encoding="utf-8")
    git_output(repo, "add", ".")
    git_output(repo, "commit", "-qm", "Add the artifacts")
    reports = {name: tmp_path / f"{name}.json" for name in names}
    workers = {
        name: subprocess.Popen(
            [sys.executable, "-c", _WORKER, name, str(PUBLISHES), str(reports[name])],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    errors = {name: worker.communicate(timeout=300)[1] for name, worker in workers.items()}
    exits = {name: worker.returncode for name, worker in workers.items()}
    codes = {name: json.loads(reports[name].read_text()) for name in names}

    entries = json.loads((repo / MANIFEST).read_text())["models"]
    published = {(entry["name"], entry["version"]) for entry in entries}
    succeeded = {
        (name, f"1.0.{i}") for name in names for i, code in enumerate(codes[name]) if code == 0
    }
    tags = set(git_output(repo, "tag", "--list", "model/*").split())
    commits = git_output(repo, "log", "--format=%s", "--grep=^Publish model").splitlines()

    assert all(exits[name] == 0 for name in names if set(codes[name]) == {0})
    assert published == succeeded, errors
    assert len(succeeded) >= WORKERS * PUBLISHES // 2
    assert tags == {f"model/{name}@v{version}" for name, version in published}
    assert len(commits) == len(published)
    assert len(entries) == len(tags)
    assert fsck_problems(repo) == ""
    assert cli("verify", cwd=repo).exit_code == 0
    assert MANIFEST not in git_output(repo, "status", "--porcelain")
    assert not (repo / ".git" / LOCK_NAME).exists()
    assert pygit2.Repository(str(repo)).head.target is not None
