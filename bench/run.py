"""Benchmark gitreg against GTO and plain git at several registry sizes.

Usage (from the repository root, after ``make venv``):

    .venv/bin/python bench/run.py [--sizes 100,1000,10000] [--runs 7] [--gto-runs 3]
                                  [--skip-gto] [--skip-hash] [--plot docs/benchmarks.png]

The script installs GTO into bench/.gto-venv on first use, builds the registries
with bench/build.py (cached under bench/out/repos), works on copies of them under
bench/out/work, and writes bench/out/results.json (every sample), bench/out/report.md
(the tables) and the plot. Every figure is the median of several runs, shown with
its minimum and maximum, and compared with the peer or the floor measured in the
same run. Whole-process times are wall-clock times from start to exit of the
child process; CPU time and peak memory come from the child's rusage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OUT = BENCH_DIR / "out"
GTO_VENV = BENCH_DIR / ".gto-venv"
GTO_VERSION = "1.10.1"
sys.path.insert(0, str(ROOT))

import build  # noqa: E402

from gitreg import __version__ as gitreg_version  # noqa: E402
from gitreg import registry  # noqa: E402
from gitreg.manifest import MANIFEST_PATHS, serialize  # noqa: E402
from gitreg.manifest_cache import RECORD_PATH, ManifestCache  # noqa: E402

GITREG = str(Path(sys.executable).with_name("gitreg"))
GNU_TIME = "/usr/bin/time"
GTO = str(GTO_VENV / "bin" / "gto")
MANIFEST = MANIFEST_PATHS["model"]
FETCH_NAME = "model-00005"
GIT_NO_SIGN = ["-c", "commit.gpgsign=false", "-c", "tag.gpgSign=false"]


@dataclass
class Series:
    """The samples of one operation by one tool at one registry size."""

    operation: str
    tool: str
    size: int
    mode: str  # "process" or "in-process"
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    max_rss_kib: list[int] = field(default_factory=list)
    note: str = ""
    timed_out: bool = False

    def median(self) -> float:
        return statistics.median(self.wall)

    def spread(self) -> str:
        if self.timed_out:
            return f"over {_ms(max(self.wall))} (stopped)"
        return f"{_ms(self.median())} ({_ms(min(self.wall))}-{_ms(max(self.wall))})"


def _ms(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1000:.1f} ms"


def _ratio(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}x"
    return f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"


# Processes and timers --------------------------------------------------------------


def run_timed(argv: list[str], cwd: Path, series: Series, *, timeout: float | None = None) -> None:
    """Run ``argv`` to completion and add its wall time, CPU time and peak memory.

    The child runs under GNU time, which starts it with fork from a small process
    and reports the child's own peak RSS; rusage from this process would count this
    process's memory, which the child shares until it execs. Wall time therefore
    includes starting GNU time, about a millisecond. A child still running after
    ``timeout`` seconds is killed, and the series is marked as timed out.
    """
    with (
        open(os.devnull, "wb") as sink,
        tempfile.TemporaryFile() as errors,
        tempfile.NamedTemporaryFile("r") as memory,
    ):
        command = [GNU_TIME, "--format=%M", f"--output={memory.name}", *argv]
        actions = [
            (os.POSIX_SPAWN_DUP2, sink.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, errors.fileno(), 2),
        ]
        # posix_spawn has no working-directory argument; this script runs one thread.
        previous = Path.cwd()
        os.chdir(cwd)
        started = time.perf_counter()
        try:
            pid = os.posix_spawn(
                GNU_TIME,
                command,
                {**os.environ, "PWD": str(cwd)},
                file_actions=actions,
                setsid=True,
            )
        finally:
            os.chdir(previous)
        _, status, usage = _wait(pid, started, timeout, series)
        wall = time.perf_counter() - started
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
        lines = memory.read().split()
    if os.waitstatus_to_exitcode(status) != 0 and not series.timed_out:
        raise RuntimeError(f"{' '.join(argv)} failed in {cwd}: {message}")
    series.wall.append(wall)
    # A stopped command's CPU time is lost with it; the series keeps its wall time only.
    if not series.timed_out:
        series.cpu.append(usage.ru_utime + usage.ru_stime)
    if lines and lines[-1].isdigit():
        series.max_rss_kib.append(int(lines[-1]))


def _wait(
    pid: int, started: float, timeout: float | None, series: Series
) -> tuple[int, int, resource.struct_rusage]:
    while True:
        found, status, usage = os.wait4(pid, os.WNOHANG)
        if found != 0:
            return found, status, usage
        if timeout is not None and time.perf_counter() - started > timeout:
            # GNU time and the command share a new session; stop them both.
            os.killpg(pid, signal.SIGKILL)
            series.timed_out = True
            return os.wait4(pid, 0)
        time.sleep(0.0005)


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    return result.stdout.decode()


def describe_machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
        if line.startswith("MemTotal")
    )
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu_model": cpu,
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "git": git(ROOT, "--version").strip(),
        "openssl": openssl.strip(),
        "gitreg": gitreg_version,
        "gto": GTO_VERSION,
        "load_average_at_start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def ensure_gto() -> None:
    if Path(GTO).exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(GTO_VENV)], check=True)
    pip = str(GTO_VENV / "bin" / "pip")
    subprocess.run([pip, "install", "--quiet", f"gto=={GTO_VERSION}"], check=True)


def fresh_copy(kind: str, size: int) -> Path:
    source = build.cached_repo(kind, size, OUT / "repos")
    return build.copy_repo(source, OUT / "work" / f"{kind}-{size}")


def add_probe_artifact(repo: Path) -> None:
    (repo / "models" / "probe.bin").write_bytes(b"weights\n")
    (repo / ".gitattributes").write_text("models/*.bin -text\n", encoding="utf-8")
    git(repo, "add", "models/probe.bin", ".gitattributes")
    git(repo, *GIT_NO_SIGN, "commit", "-q", "-m", "Add the probe artifact")


# Publishing ------------------------------------------------------------------------


def gitreg_publish_process(repo: Path, size: int, runs: int) -> Series:
    series = Series("publish", "gitreg", size, "process", note="8-byte artifact")
    for index in range(runs + 1):
        argv = [GITREG, "model-publish", "--path", "models/probe.bin", "--name", "probe"]
        argv += ["--version", f"1.0.{index}", "--no-sign"]
        run_timed(argv, repo, series)
    series.wall, series.cpu, series.max_rss_kib = (
        series.wall[1:],
        series.cpu[1:],
        series.max_rss_kib[1:],
    )
    return series


def gitreg_publish_in_process(repo: Path, size: int, runs: int) -> Series:
    series = Series("publish", "gitreg", size, "in-process", note="8-byte artifact")
    for index in range(runs + 1):
        request = registry.PublishRequest(
            kind="model", path="models/probe.bin", version=f"2.0.{index}", name="probe"
        )
        started, cpu = time.perf_counter(), time.process_time()
        registry.publish(request, cwd=repo, sign=False)
        if index > 0:
            series.wall.append(time.perf_counter() - started)
            series.cpu.append(time.process_time() - cpu)
    return series


def git_commit_and_tag(repo: Path, size: int, runs: int) -> Series:
    """Time ``git commit`` plus ``git tag -a`` of the change a publish makes."""
    series = Series("publish", "git", size, "process", note="git commit + git tag -a")
    for index in range(runs):
        entry = build.make_entry(
            build.random.Random(index), "probe", f"3.0.{index}", build.START_EPOCH
        )
        repo_object = registry.open_registry(repo)
        head = repo_object.head_commit()
        cache = ManifestCache(repo_object.git_dir)
        manifest = registry.read_head_manifest(repo_object, head, "model", "", cache=cache)
        (repo / MANIFEST).write_bytes(
            serialize(manifest.with_entry(entry, updated_at=entry.created_at))
        )
        commit = Series("", "", 0, "")
        tag = Series("", "", 0, "")
        message = registry.commit_message(entry, verb="Publish")
        run_timed(
            ["git", *GIT_NO_SIGN, "commit", "-q", "-m", message, "--", MANIFEST], repo, commit
        )
        run_timed(
            ["git", *GIT_NO_SIGN, "tag", "-a", entry.tag_name, "-m", registry.tag_message(entry)],
            repo,
            tag,
        )
        series.wall.append(commit.wall[0] + tag.wall[0])
        series.cpu.append(commit.cpu[0] + tag.cpu[0])
        series.max_rss_kib.append(max(commit.max_rss_kib[0], tag.max_rss_kib[0]))
    return series


def gto_register_process(repo: Path, size: int, runs: int, timeout: float) -> Series:
    series = Series("publish", "gto", size, "process", note="gto register on a new commit")
    for index in range(runs):
        probe = repo / "models" / "probe.txt"
        probe.write_text(f"{index}\n", encoding="utf-8")
        git(repo, "add", "models/probe.txt")
        git(repo, *GIT_NO_SIGN, "commit", "-q", "-m", f"Train probe {index}")
        argv = [GTO, "register", "probe", "--version", f"v1.0.{index}"]
        run_timed(argv, repo, series, timeout=timeout)
        if series.timed_out:
            break
    return series


# Reading ---------------------------------------------------------------------------


def repeat(
    argv: list[str], repo: Path, series: Series, runs: int, timeout: float | None = None
) -> Series:
    for _ in range(runs):
        run_timed(argv, repo, series, timeout=timeout)
        if series.timed_out:
            break
    return series


def gitreg_reads_process(repo: Path, size: int, runs: int) -> list[Series]:
    # One untimed command records the manifest as validated; the cold case is timed apart.
    subprocess.run(
        [GITREG, "list", "--type", "model", "--json"], cwd=repo, capture_output=True, check=True
    )
    listing = ["list", "--type", "model"]
    results = [
        repeat(
            [GITREG, *listing, "--json"],
            repo,
            Series("list --json", "gitreg", size, "process"),
            runs,
        ),
        repeat([GITREG, *listing], repo, Series("list table", "gitreg", size, "process"), runs),
        repeat(
            [GITREG, "fetch", "--type", "model", "--name", FETCH_NAME],
            repo,
            Series("fetch latest", "gitreg", size, "process"),
            runs,
        ),
    ]
    cold = Series("list --json, manifest not yet validated", "gitreg", size, "process")
    for _ in range(max(1, runs // 3)):
        (repo / ".git" / RECORD_PATH).unlink()
        run_timed([GITREG, *listing, "--json"], repo, cold)
    results.append(cold)
    return results


def gitreg_reads_in_process(repo: Path, size: int, runs: int) -> list[Series]:
    listing = Series(
        "list --json", "gitreg", size, "in-process", note="load_manifest + filter_documents"
    )
    fetching = Series(
        "fetch latest", "gitreg", size, "in-process", note="load_manifest + fetch_document"
    )
    for index in range(runs + 1):
        started, cpu = time.perf_counter(), time.process_time()
        registry.filter_documents(registry.load_manifest(registry.open_registry(repo), "model"))
        middle, middle_cpu = time.perf_counter(), time.process_time()
        manifest = registry.load_manifest(registry.open_registry(repo), "model")
        registry.fetch_document(manifest, FETCH_NAME)
        if index > 0:
            listing.wall.append(middle - started)
            listing.cpu.append(middle_cpu - cpu)
            fetching.wall.append(time.perf_counter() - middle)
            fetching.cpu.append(time.process_time() - middle_cpu)
    return [listing, fetching]


def gto_reads_process(repo: Path, size: int, runs: int, timeout: float) -> list[Series]:
    showing = Series("list table", "gto", size, "process", note="gto show")
    fetching = Series("fetch latest", "gto", size, "process", note="gto show NAME")
    return [
        repeat([GTO, "show"], repo, showing, runs, timeout),
        repeat([GTO, "show", FETCH_NAME], repo, fetching, runs, timeout),
    ]


def gto_in_process(repo: Path, size: int, runs: int) -> list[Series]:
    python = str(GTO_VENV / "bin" / "python")
    script = str(BENCH_DIR / "gto_inprocess.py")
    output = subprocess.run(
        [python, script, str(repo), FETCH_NAME, str(runs)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    samples = json.loads(output.strip().splitlines()[-1])
    names = {"show": "list table", "show_name": "fetch latest", "register": "publish"}
    return [
        Series(
            operation,
            "gto",
            size,
            "in-process",
            wall=samples[key],
            cpu=samples[f"{key}_cpu"],
            note=f"gto.api.{key}",
        )
        for key, operation in names.items()
    ]


# Start-up and hashing ----------------------------------------------------------------


def startup(runs: int) -> list[Series]:
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "gitreg --version": [GITREG, "--version"],
        "gitreg --help": [GITREG, "--help"],
        "gto --version": [GTO, "--version"],
        "git --version": ["git", "--version"],
    }
    results = []
    for label, argv in cases.items():
        if argv[0] == GTO and not Path(GTO).exists():
            continue
        tool = label.split()[0]
        results.append(repeat(argv, ROOT, Series(label, tool, 0, "process"), runs))
    return results


def make_big_file(path: Path, gib: int) -> None:
    chunk = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        for _ in range(gib * 1024):
            handle.write(chunk)


def hashing(runs: int) -> list[Series]:
    folder = OUT / "hash"
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < 12 * 1024**3:
        print(f"skipping hashing: only {free / 1024**3:.1f} GiB free", file=sys.stderr)
        return []
    results: list[Series] = []
    try:
        for gib in (1, 4):
            path = folder / f"{gib}gib.bin"
            make_big_file(path, gib)
            subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
            code = (
                "import pathlib; from gitreg.hashing import sha256_file; "
                f"sha256_file(pathlib.Path({str(path)!r}))"
            )
            cases = {
                "gitreg": [sys.executable, "-c", code],
                "openssl": ["openssl", "dgst", "-sha256", str(path)],
                "sha256sum": ["sha256sum", str(path)],
            }
            for tool, argv in cases.items():
                results.append(
                    repeat(argv, ROOT, Series(f"sha256 {gib} GiB", tool, gib, "process"), runs)
                )
        second = folder / "1gib-copy.bin"
        shutil.copyfile(folder / "1gib.bin", second)
        pair = [str(folder / "1gib.bin"), str(second)]
        parallel = (
            "import pathlib; from gitreg.hashing import sha256_files; "
            f"sha256_files([pathlib.Path(p) for p in {pair!r}])"
        )
        sequential = (
            "import pathlib; from gitreg.hashing import sha256_file; "
            f"[sha256_file(pathlib.Path(p)) for p in {pair!r}]"
        )
        results.append(
            repeat(
                [sys.executable, "-c", parallel],
                ROOT,
                Series("sha256 2 x 1 GiB", "gitreg", 2, "process", note="parallel threads"),
                runs,
            )
        )
        results.append(
            repeat(
                [sys.executable, "-c", sequential],
                ROOT,
                Series("sha256 2 x 1 GiB", "gitreg sequential", 2, "process"),
                runs,
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results


# Report ----------------------------------------------------------------------------------


def find(results: list[Series], operation: str, tool: str, size: int, mode: str) -> Series | None:
    for series in results:
        if (series.operation, series.tool, series.size, series.mode) == (
            operation,
            tool,
            size,
            mode,
        ):
            return series
    return None


# (operation of gitreg, operation of the peer, peer tool, mode)
COMPARISONS = [
    ("publish", "publish", "gto", "process"),
    ("publish", "publish", "git", "process"),
    ("publish", "publish", "gto", "in-process"),
    ("list --json", "list table", "gto", "process"),
    ("list table", "list table", "gto", "process"),
    ("list --json", "list table", "gto", "in-process"),
    ("fetch latest", "fetch latest", "gto", "process"),
    ("fetch latest", "fetch latest", "gto", "in-process"),
]
PEER_COMMANDS = {
    ("publish", "gto", "process"): "gto register",
    ("publish", "git", "process"): "git commit + git tag -a",
    ("publish", "gto", "in-process"): "gto.api.register",
    ("list table", "gto", "process"): "gto show",
    ("list table", "gto", "in-process"): "gto.api.show",
    ("fetch latest", "gto", "process"): "gto show NAME",
    ("fetch latest", "gto", "in-process"): "gto.api.show(name=NAME)",
}


def comparison_rows(results: list[Series], sizes: list[int]) -> list[str]:
    rows = [
        "| operation | entries | mode | gitreg median (min-max) | peer "
        "| peer median (min-max) | peer / gitreg | CPU: peer / gitreg |",
        "|---|---:|---|---:|---|---:|---:|---:|",
    ]
    for mine, theirs, tool, mode in COMPARISONS:
        for size in sizes:
            gitreg_series = find(results, mine, "gitreg", size, mode)
            peer = find(results, theirs, tool, size, mode)
            if gitreg_series is None or peer is None:
                continue
            ratio = _ratio(peer.median() / gitreg_series.median())
            if peer.timed_out:
                ratio = f"over {ratio}"
            cpu_ratio = "-"
            if peer.cpu and gitreg_series.cpu and not peer.timed_out:
                cpu_ratio = _ratio(
                    statistics.median(peer.cpu) / statistics.median(gitreg_series.cpu)
                )
            runs = " (1 run)" if len(peer.wall) == 1 else ""
            rows.append(
                f"| {mine} | {size:,} | {mode} | {gitreg_series.spread()} | "
                f"{PEER_COMMANDS[(theirs, tool, mode)]}{runs} | {peer.spread()} | {ratio} | "
                f"{cpu_ratio} |"
            )
    return rows


def gitreg_rows(results: list[Series]) -> list[str]:
    rows = [
        "| operation | entries | mode | median (min-max) | CPU median | peak RSS | runs |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for series in results:
        if series.tool != "gitreg" or series.size == 0 or series.operation.startswith("sha256"):
            continue
        cpu = _ms(statistics.median(series.cpu)) if series.cpu else "-"
        rss = f"{max(series.max_rss_kib) / 1024:.0f} MiB" if series.max_rss_kib else "-"
        rows.append(
            f"| {series.operation} | {series.size:,} | {series.mode} | {series.spread()} | "
            f"{cpu} | {rss} | {len(series.wall)} |"
        )
    return rows


def startup_rows(results: list[Series]) -> list[str]:
    floor = find(results, "python -c pass", "python", 0, "process")
    rows = [
        "| command | median (min-max) | CPU median | / python -c pass |",
        "|---|---:|---:|---:|",
    ]
    for series in results:
        if series.size == 0 and floor is not None:
            ratio = _ratio(series.median() / floor.median())
            cpu = _ms(statistics.median(series.cpu))
            rows.append(f"| `{series.operation}` | {series.spread()} | {cpu} | {ratio} |")
    return rows


def hashing_rows(results: list[Series]) -> list[str]:
    rows = [
        "| file | tool | median (min-max) | throughput | peak RSS "
        "| gitreg / tool throughput | same, on CPU time |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for series in results:
        if not series.operation.startswith("sha256"):
            continue
        gib = series.size
        gitreg_series = find(results, series.operation, "gitreg", series.size, "process")
        assert gitreg_series is not None
        share = series.median() / gitreg_series.median()
        cpu_share = statistics.median(series.cpu) / statistics.median(gitreg_series.cpu)
        rows.append(
            f"| {series.operation.removeprefix('sha256 ')} | {series.tool} | {series.spread()} | "
            f"{gib / series.median():.2f} GiB/s | {max(series.max_rss_kib) / 1024:.0f} MiB | "
            f"{share:.0%} | {cpu_share:.0%} |"
        )
    return rows


# (label, operation, size, mode, limit in seconds) from the design's performance targets
TARGETS = [
    ("publish into 10,000, the operation", "publish", 10000, "in-process", 0.150),
    ("publish into 10,000, whole process", "publish", 10000, "process", 0.400),
    ("fetch on 10,000, whole process", "fetch latest", 10000, "process", 0.300),
    ("list --json on 10,000, whole process", "list --json", 10000, "process", 0.300),
    ("list table of 10,000 rows, whole process", "list table", 10000, "process", 1.0),
]


def target_rows(results: list[Series]) -> list[str]:
    rows = [
        "| target | limit | wall median | CPU median | met on wall time |",
        "|---|---:|---:|---:|---|",
    ]
    for label, operation, size, mode, limit in TARGETS:
        series = find(results, operation, "gitreg", size, mode)
        if series is None:
            continue
        cpu = statistics.median(series.cpu) if series.cpu else float("nan")
        met = "yes" if series.median() <= limit else "no"
        rows.append(f"| {label} | {_ms(limit)} | {_ms(series.median())} | {_ms(cpu)} | {met} |")
    for operation, peer_operation in (("publish", "publish"), ("list table", "list table")):
        mine = find(results, operation, "gitreg", 1000, "process")
        peer = find(results, peer_operation, "gto", 1000, "process")
        if mine is None or peer is None:
            continue
        ratio = peer.median() / mine.median()
        met = "yes" if ratio >= 5 else "no"
        rows.append(
            f"| {operation} at 1,000 against GTO | 5x | {_ratio(ratio)} faster | - | {met} |"
        )
    return rows


def write_report(
    results: list[Series], machine: dict[str, str], sizes: list[int], command: str
) -> str:
    lines = [
        f"Measured {machine['date']} with `{command}`.",
        "",
        "Machine: "
        + ", ".join(f"{key} {value}" for key, value in machine.items() if key != "date"),
        "",
        "### Targets",
        "",
        *target_rows(results),
        "",
        "### gitreg against its peers",
        "",
        *comparison_rows(results, sizes),
        "",
        "### gitreg, every operation",
        "",
        *gitreg_rows(results),
        "",
        "### Start-up",
        "",
        *startup_rows(results),
        "",
    ]
    if any(series.operation.startswith("sha256") for series in results):
        lines += ["### SHA-256 of large files", "", *hashing_rows(results), ""]
    return "\n".join(lines)


def plot(results: list[Series], sizes: list[int], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("publish one entry", "publish", "publish"),
        ("list all entries", "list --json", "list table"),
        ("fetch the latest version", "fetch latest", "fetch latest"),
    ]
    lines = [
        ("gitreg", "process", "gitreg (whole process)", "-o"),
        ("gitreg", "in-process", "gitreg (in-process)", ":o"),
        ("gto", "process", "GTO (whole process)", "-s"),
        ("gto", "in-process", "GTO (in-process)", ":s"),
        ("git", "process", "git commit + git tag -a", "-^"),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(15, 4.8), sharey=True)
    for axis, (title, mine, theirs) in zip(axes, panels, strict=True):
        for tool, mode, label, style in lines:
            operation = mine if tool == "gitreg" else theirs
            found = [find(results, operation, tool, size, mode) for size in sizes]
            points = [(size, series) for size, series in zip(sizes, found, strict=True) if series]
            if not points:
                continue
            xs = [size for size, _ in points]
            medians = [series.median() for _, series in points]
            low = [
                median - min(series.wall)
                for median, (_, series) in zip(medians, points, strict=True)
            ]
            high = [
                max(series.wall) - median
                for median, (_, series) in zip(medians, points, strict=True)
            ]
            axis.errorbar(xs, medians, yerr=[low, high], fmt=style, capsize=3, label=label)
            for size, series in points:
                if series.timed_out:
                    axis.annotate(
                        f"stopped at {max(series.wall):.0f} s",
                        (size, series.median()),
                        textcoords="offset points",
                        xytext=(-86, 4),
                        fontsize="small",
                    )
        axis.set_title(title)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("registry entries")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds (median, bars: min-max)")
    handles: dict[str, object] = {}
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    figure.legend(handles.values(), handles.keys(), loc="lower center", ncol=len(handles))
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)


# Main --------------------------------------------------------------------------------------


def measure_size(size: int, args: argparse.Namespace) -> list[Series]:
    print(f"registry of {size:,} entries", file=sys.stderr)
    results: list[Series] = []
    gitreg_repo = fresh_copy("gitreg", size)
    add_probe_artifact(gitreg_repo)
    results.append(gitreg_publish_process(gitreg_repo, size, args.runs))
    results.append(gitreg_publish_in_process(gitreg_repo, size, args.runs))
    results += gitreg_reads_process(gitreg_repo, size, args.runs)
    results += gitreg_reads_in_process(gitreg_repo, size, args.runs)
    git_repo = fresh_copy("gitreg", size)
    results.append(git_commit_and_tag(git_repo, size, args.runs))
    if not args.skip_gto:
        # Above --gto-max-size one GTO command takes minutes, so each runs once.
        small = size <= args.gto_max_size
        runs = args.gto_runs if small else 1
        gto_repo = fresh_copy("gto", size)
        results.append(gto_register_process(gto_repo, size, runs, args.gto_timeout))
        results += gto_reads_process(gto_repo, size, runs, args.gto_timeout)
        if small:
            results += gto_in_process(gto_repo, size, runs)
    shutil.rmtree(OUT / "work", ignore_errors=True)
    return results


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100,1000,10000", help="Registry sizes, comma-separated."
    )
    parser.add_argument(
        "--runs", type=int, default=7, help="Timed runs of each gitreg and git command."
    )
    parser.add_argument("--gto-runs", type=int, default=3, help="Timed runs of each GTO command.")
    parser.add_argument(
        "--gto-max-size",
        type=int,
        default=1000,
        help="Largest size at which GTO runs --gto-runs times; above it, GTO runs once.",
    )
    parser.add_argument(
        "--gto-timeout",
        type=float,
        default=300.0,
        help="Seconds after which one GTO command is stopped and reported as slower than that.",
    )
    parser.add_argument("--hash-runs", type=int, default=3, help="Timed runs of each hashing tool.")
    parser.add_argument("--skip-gto", action="store_true", help="Measure gitreg and git only.")
    parser.add_argument("--skip-hash", action="store_true", help="Skip the 1 GiB and 4 GiB files.")
    parser.add_argument(
        "--plot", type=Path, default=ROOT / "docs" / "benchmarks.png", help="PNG to write."
    )
    return parser.parse_args()


def main() -> None:
    args = parse_arguments()
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if not args.skip_gto:
        ensure_gto()

    machine = describe_machine()
    results = startup(args.runs)
    for size in sizes:
        results += measure_size(size, args)
    if not args.skip_hash:
        results += hashing(args.hash_runs)
    machine["load_average_at_end"] = " ".join(f"{value:.2f}" for value in os.getloadavg())

    OUT.mkdir(exist_ok=True)
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    samples = {"machine": machine, "results": [asdict(series) for series in results]}
    (OUT / "results.json").write_text(json.dumps(samples, indent=1), encoding="utf-8")
    report = write_report(results, machine, sizes, command.strip())
    (OUT / "report.md").write_text(report, encoding="utf-8")
    plot(results, sizes, args.plot)
    print(report)


if __name__ == "__main__":
    main()
