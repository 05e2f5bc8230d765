"""Build registries of a given size for gitreg and for GTO, the way their publishes would.

Publishing 10,000 entries one command at a time takes hours with GTO and minutes
with gitreg, so both builders write the same git objects those commands write
through ``git fast-import`` in one stream:

- gitreg: one commit per entry that changes only ``models/registry/releases.json``
  (the canonical manifest, built from gitreg's own entry models),
  with gitreg's commit message and trailers, and an annotated tag
  ``model/NAME@vVERSION`` carrying the entry digest. The last entry is published
  with ``gitreg.registry.publish`` itself, and the builder checks that the final
  manifest parses and re-serializes to the same bytes.
- GTO: one commit per version that changes the model's file, each with the
  annotated tag ``NAME@vVERSION`` and the message ``gto register`` writes
  (``Registering artifact NAME version vVERSION``). ``gto-annotated`` registries
  also commit an ``artifacts.yaml`` naming every model.

Both registries hold NAMES = size / 10 models with 10 versions each, published in
rounds (every model's 1.0.0, then every model's 1.1.0, ...) so that most gitreg
publishes insert in the middle of the manifest.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import orjson  # noqa: E402

from gitreg import registry  # noqa: E402
from gitreg.entries import ModelEntry  # noqa: E402
from gitreg.manifest import MANIFEST_PATHS, is_canonical, parse  # noqa: E402
from gitreg.versions import precedence_key  # noqa: E402

IDENTITY = ("Bench Publisher", "bench@example.com")
START_EPOCH = 1_700_000_000
VERSIONS_PER_NAME = 10
MANIFEST_PATH = MANIFEST_PATHS["model"]


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True)
    return result.stdout.decode()


def init_repo(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", IDENTITY[0])
    git(path, "config", "user.email", IDENTITY[1])
    # Keep git from packing loose objects behind the benchmark's back.
    git(path, "config", "gc.auto", "0")


def model_names(size: int) -> list[str]:
    return [f"model-{index:05d}" for index in range(max(1, size // VERSIONS_PER_NAME))]


def planned_versions(size: int) -> Iterator[tuple[str, str]]:
    """Yield ``(name, version)`` in publishing order: round r publishes 1.r.0 of every model."""
    names = model_names(size)
    count = 0
    for round_index in range(VERSIONS_PER_NAME):
        for name in names:
            if count == size:
                return
            yield name, f"1.{round_index}.0"
            count += 1


def artifact_path(name: str) -> str:
    return f"models/{name}.bin"


def artifact_bytes(name: str) -> bytes:
    return f"weights of {name}\n".encode()


class FastImport:
    """A ``git fast-import`` process fed with blobs, commits and annotated tags."""

    def __init__(self, repo: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"],
            cwd=repo,
            stdin=subprocess.PIPE,
        )
        assert self._process.stdin is not None
        self._stream: BinaryIO = self._process.stdin
        self._mark = 0

    def _data(self, payload: bytes) -> None:
        self._stream.write(b"data %d\n" % len(payload))
        self._stream.write(payload)
        self._stream.write(b"\n")

    def blob(self, payload: bytes) -> int:
        self._mark += 1
        self._stream.write(b"blob\nmark :%d\n" % self._mark)
        self._data(payload)
        return self._mark

    def commit(self, *, when: int, message: str, files: dict[str, int], parent: int | None) -> int:
        self._mark += 1
        person = f"{IDENTITY[0]} <{IDENTITY[1]}> {when} +0000".encode()
        self._stream.write(b"commit refs/heads/main\nmark :%d\n" % self._mark)
        self._stream.write(b"author " + person + b"\ncommitter " + person + b"\n")
        self._data(message.encode())
        if parent is not None:
            self._stream.write(b"from :%d\n" % parent)
        for path, blob in files.items():
            self._stream.write(b"M 100644 :%d %s\n" % (blob, path.encode()))
        return self._mark

    def tag(self, *, name: str, commit: int, when: int, message: str) -> None:
        person = f"{IDENTITY[0]} <{IDENTITY[1]}> {when} +0000".encode()
        self._stream.write(b"tag %s\nfrom :%d\ntagger %s\n" % (name.encode(), commit, person))
        self._data(message.encode())

    def finish(self) -> None:
        self._stream.write(b"done\n")
        self._stream.close()
        if self._process.wait() != 0:
            raise RuntimeError("git fast-import failed")


class CanonicalWriter:
    """Canonical manifest bytes built from pre-rendered entry texts.

    This re-implements the canonical format independently of ``gitreg.manifest``,
    and the builder checks at the end that ``gitreg.manifest.parse`` finds the
    result canonical.
    """

    def __init__(self) -> None:
        self._keys: list[tuple[str, object]] = []
        self._texts: list[bytes] = []

    def insert(self, entry: ModelEntry) -> None:
        import bisect

        key = (entry.name, precedence_key(entry.version))
        index = bisect.bisect_left(self._keys, key)
        wrapped = orjson.dumps({"models": [entry.to_json_dict()]}, option=orjson.OPT_INDENT_2)
        text = wrapped[len(b'{\n  "models": [\n') : -len(b"\n  ]\n}")]
        self._keys.insert(index, key)
        self._texts.insert(index, text)

    def render(self, updated_at: str) -> bytes:
        head = (
            b'{\n  "$schema": "http://json-schema.org/draft-07/schema#",\n'
            b'  "version": "1.0.0",\n  "updated_at": "%s",\n  "models": [\n' % updated_at.encode()
        )
        return head + b",\n".join(self._texts) + b"\n  ]\n}\n"


def make_entry(rng: random.Random, name: str, version: str, when: int) -> ModelEntry:
    return ModelEntry.model_validate(
        {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "name": name,
            "version": version,
            "created_at": registry.utc_timestamp(when),
            "sha256": hashlib.sha256(artifact_bytes(name)).hexdigest(),
            "metrics": {"accuracy": round(rng.random(), 4), "f1": round(rng.random(), 4)},
            "artifacts": [artifact_path(name)],
            "cleanliness_score": rng.randint(60, 100),
            "release_tag": f"v1.{version.split('.')[1]}",
            "client": rng.choice(["acme-corp", "globex", "initech"]),
            "notes": None,
        }
    )


def build_gitreg(path: Path, size: int) -> None:
    """Build a gitreg registry of ``size`` model entries at ``path``."""
    init_repo(path)
    rng = random.Random(size)

    importer = FastImport(path)
    artifacts = {
        artifact_path(name): importer.blob(artifact_bytes(name)) for name in model_names(size)
    }
    parent = importer.commit(
        when=START_EPOCH, message="Add model artifacts\n", files=artifacts, parent=None
    )

    writer = CanonicalWriter()
    plan = list(planned_versions(size))
    for offset, (name, version) in enumerate(plan[:-1], start=1):
        when = START_EPOCH + offset
        entry = make_entry(rng, name, version, when)
        writer.insert(entry)
        blob = importer.blob(writer.render(entry.created_at))
        message = registry.commit_message(entry, verb="Publish")
        parent = importer.commit(
            when=when, message=message, files={MANIFEST_PATH: blob}, parent=parent
        )
        importer.tag(
            name=entry.tag_name, commit=parent, when=when, message=registry.tag_message(entry)
        )
    importer.finish()
    git(path, "reset", "-q", "--hard", "main")
    _publish_last(path, plan[-1])

    # parse compares the bytes with a full serialization of the entries it validated.
    data = (path / MANIFEST_PATH).read_bytes()
    if not is_canonical(parse(data, kind="model", source=MANIFEST_PATH)):
        raise RuntimeError("the built manifest is not canonical")


def _publish_last(path: Path, planned: tuple[str, str]) -> None:
    name, version = planned
    request = registry.PublishRequest(
        kind="model", path=artifact_path(name), version=version, name=name, client="acme-corp"
    )
    registry.publish(request, cwd=path, sign=False)


def build_gto(path: Path, size: int, *, annotated: bool = False) -> None:
    """Build a GTO registry of ``size`` versions at ``path``.

    GTO reads ``artifacts.yaml`` at every tagged commit, so with ``annotated`` each
    command costs time in proportion to versions times models. Without it, GTO
    works from the tags alone, which is its fastest way to run.
    """
    init_repo(path)
    importer = FastImport(path)
    names = model_names(size)
    files = {artifact_path(name): importer.blob(artifact_bytes(name)) for name in names}
    if annotated:
        yaml = "".join(f"{name}:\n  type: model\n  path: {artifact_path(name)}\n" for name in names)
        files["artifacts.yaml"] = importer.blob(yaml.encode())
    parent = importer.commit(
        when=START_EPOCH, message="Add model artifacts\n", files=files, parent=None
    )
    for offset, (name, version) in enumerate(planned_versions(size), start=1):
        when = START_EPOCH + offset
        blob = importer.blob(artifact_bytes(name) + version.encode() + b"\n")
        parent = importer.commit(
            when=when,
            message=f"Train {name} {version}\n",
            files={artifact_path(name): blob},
            parent=parent,
        )
        importer.tag(
            name=f"{name}@v{version}",
            commit=parent,
            when=when,
            message=f"Registering artifact {name} version v{version}",
        )
    importer.finish()
    git(path, "reset", "-q", "--hard", "main")


def cached_repo(kind: str, size: int, root: Path) -> Path:
    """Return the registry of ``kind`` and ``size`` under ``root``, building it when missing."""
    path = root / f"{kind}-{size}"
    marker = path / ".git" / "bench-complete"
    if marker.exists():
        return path
    if kind == "gitreg":
        build_gitreg(path, size)
    else:
        build_gto(path, size, annotated=kind == "gto_annotated")
    marker.write_text("built\n", encoding="utf-8")
    return path


def copy_repo(source: Path, target: Path) -> Path:
    """Copy a built registry so that a benchmark can change it freely."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    return target


if __name__ == "__main__":
    out = BENCH_DIR / "out" / "repos"
    for arg in sys.argv[1:]:
        kind, size_text = arg.split("-")
        started = os.times().elapsed
        print(cached_repo(kind, int(size_text), out), f"{os.times().elapsed - started:.1f} s")
