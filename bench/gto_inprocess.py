"""Time GTO's own API inside one process; run with the Python of bench/.gto-venv.

Usage: python gto_inprocess.py REPO NAME RUNS
Prints one JSON object: wall and CPU seconds per call of ``gto.api.show`` (whole registry),
``gto.api.show`` of NAME, and ``gto.api.register`` of a new version on a new
commit. One untimed call of each comes first, so imports are not counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from gto import api


def new_commit(repo: Path, index: int) -> None:
    probe = repo / "models" / "probe-api.txt"
    probe.write_text(f"{index}\n", encoding="utf-8")
    subprocess.run(["git", "add", str(probe)], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", f"probe {index}"],
        cwd=repo,
        check=True,
    )


def timed(call: object) -> tuple[float, float]:
    """Return the wall and CPU seconds of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    call()  # type: ignore[operator]
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    repo, name, runs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    keys = ("show", "show_name", "register")
    results: dict[str, list[float]] = {name: [] for key in keys for name in (key, f"{key}_cpu")}
    for index in range(runs + 1):
        show = timed(lambda: api.show(str(repo)))
        show_name = timed(lambda: api.show(str(repo), name=name))
        new_commit(repo, index)
        register = timed(
            lambda index=index: api.register(
                str(repo), "probe-api", "HEAD", version=f"v1.0.{index}"
            )
        )
        if index == 0:
            continue
        for key, (wall, cpu) in zip(keys, (show, show_name, register), strict=True):
            results[key].append(wall)
            results[f"{key}_cpu"].append(cpu)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
