"""Time ``gitreg verify --no-hash`` on registries of 1,000 and 10,000 signed publishes.

Each registry has the objects that N publishes leave behind: an init commit that
trusts one ed25519 key, then N commits that each add one model entry, each with
its annotated tag. All are signed with real SSHSIG signatures that ``git
verify-commit`` and ``git verify-tag`` accept.

Publishing 10,000 entries through the CLI would take far longer, so the objects
are written straight into one pack file, as a packed repository stores them:
every 50th manifest version in full, the others as deltas against the previous
version (git's default maximum delta depth is 50). The pack index is written
alongside. Signing happens in-process with
``cryptography``. The artifacts are small untracked files in the work tree.

Usage: python bench/verify_history.py [--sizes 1000,10000] [--keep DIR] [--fsck]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gitreg.entries import ModelEntry
from gitreg.init import ATTRIBUTE_LINES
from gitreg.manifest import MANIFEST_PATHS, empty_manifest, parse, serialize
from gitreg.registry import commit_message, tag_message, utc_timestamp

EMAIL = "bench@example.com"
IDENTITY = f"Bench <{EMAIL}>"
START_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
FULL_EVERY = 50
OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_TAG, OBJ_REF_DELTA = 1, 2, 3, 4, 7


class Signer:
    """Makes armored SSHSIG signatures in the namespace ``git``, as ssh-keygen does."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        public = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.blob = _string(b"ssh-ed25519") + _string(public)
        self.public_line = "ssh-ed25519 " + base64.b64encode(self.blob).decode("ascii")

    def sign(self, message: bytes) -> str:
        digest = hashlib.sha512(message).digest()
        data = b"SSHSIG" + _string(b"git") + _string(b"") + _string(b"sha512") + _string(digest)
        signature = _string(b"ssh-ed25519") + _string(self.key.sign(data))
        blob = (
            b"SSHSIG"
            + struct.pack(">I", 1)
            + _string(self.blob)
            + _string(b"git")
            + _string(b"")
            + _string(b"sha512")
            + _string(signature)
        )
        encoded = base64.b64encode(blob).decode("ascii")
        lines = [encoded[i : i + 70] for i in range(0, len(encoded), 70)]
        return (
            "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"
        )

    def write_private_key(self, path: Path) -> None:
        path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
        path.with_name(path.name + ".pub").write_text(f"{self.public_line} {EMAIL}\n")


def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _object_id(kind: str, data: bytes) -> bytes:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).digest()


def _tree(entries: list[tuple[str, bytes, bool]]) -> bytes:
    def order(item: tuple[str, bytes, bool]) -> str:
        return item[0] + "/" if item[2] else item[0]

    return b"".join(
        (b"40000 " if is_tree else b"100644 ") + name.encode() + b"\0" + oid
        for name, oid, is_tree in sorted(entries, key=order)
    )


class PackWriter:
    """Writes pack version 2 with its version 2 index; objects are whole or REF_DELTA."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.offset = 12
        self.index: list[tuple[bytes, int, int]] = []

    def _header(self, kind: int, size: int) -> bytes:
        first = (kind << 4) | (size & 0x0F)
        size >>= 4
        out = bytearray()
        while size:
            out.append(first | 0x80)
            first = size & 0x7F
            size >>= 7
        out.append(first)
        return bytes(out)

    def _add(self, oid: bytes, raw: bytes) -> None:
        self.chunks.append(raw)
        self.index.append((oid, self.offset, zlib.crc32(raw)))
        self.offset += len(raw)

    def add(self, kind: int, data: bytes, oid: bytes) -> None:
        self._add(oid, self._header(kind, len(data)) + zlib.compress(data, 1))

    def add_delta(self, oid: bytes, base: bytes, delta: bytes) -> None:
        self._add(oid, self._header(OBJ_REF_DELTA, len(delta)) + base + zlib.compress(delta, 1))

    def write(self, pack_dir: Path) -> None:
        head = b"PACK" + struct.pack(">II", 2, len(self.index))
        digest = hashlib.sha1(head, usedforsecurity=False)
        for chunk in self.chunks:
            digest.update(chunk)
        checksum = digest.digest()
        name = pack_dir / f"pack-{checksum.hex()}"
        with open(f"{name}.pack", "wb") as handle:
            handle.write(head)
            handle.writelines(self.chunks)
            handle.write(checksum)
        ordered = sorted(self.index)
        fanout = [0] * 256
        for oid, _, _ in ordered:
            fanout[oid[0]] += 1
        total = 0
        counts = []
        for count in fanout:
            total += count
            counts.append(total)
        body = b"\377tOc" + struct.pack(">I", 2) + struct.pack(">256I", *counts)
        body += b"".join(oid for oid, _, _ in ordered)
        body += b"".join(struct.pack(">I", crc) for _, _, crc in ordered)
        body += b"".join(struct.pack(">I", offset) for _, offset, _ in ordered)
        body += checksum
        body += hashlib.sha1(body, usedforsecurity=False).digest()
        Path(f"{name}.idx").write_bytes(body)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _delta(source_size: int, target_size: int, ops: list[tuple[str, int, int] | bytes]) -> bytes:
    out = bytearray(_varint(source_size) + _varint(target_size))
    for op in ops:
        if isinstance(op, bytes):
            for start in range(0, len(op), 127):
                piece = op[start : start + 127]
                out.append(len(piece))
                out += piece
            continue
        _, offset, size = op
        command, args = 0x80, bytearray()
        for i in range(4):
            if offset >> (8 * i) & 0xFF:
                command |= 1 << i
                args.append(offset >> (8 * i) & 0xFF)
        for i in range(3):
            if size >> (8 * i) & 0xFF:
                command |= 1 << (4 + i)
                args.append(size >> (8 * i) & 0xFF)
        out.append(command)
        out += args
    return bytes(out)


def _manifest_head(updated_at: str) -> bytes:
    document = serialize(empty_manifest("model", updated_at=updated_at))
    return document[: document.index(b"[]")] + b"[\n"


MANIFEST_TAIL = b"\n  ]\n}\n"


def _entry_block(entry: ModelEntry) -> bytes:
    text = orjson.dumps(entry.to_json_dict(), option=orjson.OPT_INDENT_2)
    return b"\n".join(b"    " + line for line in text.split(b"\n"))


def build(root: Path, count: int) -> Path:
    """Build a registry of ``count`` signed publishes under ``root``; return its work tree."""
    import pygit2

    work = root / f"registry-{count}"
    repo = pygit2.init_repository(str(work), initial_head="main")
    signer = Signer()
    key = root / f"key-{count}"
    signer.write_private_key(key)
    for name, value in (
        ("user.name", "Bench"),
        ("user.email", EMAIL),
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
        ("gpg.ssh.allowedSignersFile", str(work / ".gitreg" / "allowed_signers")),
    ):
        repo.config[name] = value
    pack = PackWriter()

    def put(kind: str, code: int, data: bytes) -> bytes:
        oid = _object_id(kind, data)
        pack.add(code, data, oid)
        return oid

    artifacts = work / "artifacts"
    artifacts.mkdir()
    entries = []
    for number in range(1, count + 1):
        artifact = artifacts / f"model-{number:05d}.bin"
        content = f"weights {number}".encode()
        artifact.write_bytes(content)
        entries.append(
            ModelEntry.model_validate(
                {
                    "id": str(uuid.UUID(int=number, version=4)),
                    "name": f"model-{number:05d}",
                    "version": "1.0.0",
                    "created_at": utc_timestamp(START_EPOCH + number),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "metrics": {"rmse": 0.1 + number / 1e6},
                    "artifacts": [f"artifacts/model-{number:05d}.bin"],
                    "cleanliness_score": number % 101,
                    "release_tag": None,
                    "client": "acme-corp",
                    "notes": None,
                }
            )
        )
    blocks = [_entry_block(entry) for entry in entries]
    body = b",\n".join(blocks)
    ends = []
    position = 0
    for number, block in enumerate(blocks):
        position += len(block) + (2 if number else 0)
        ends.append(position)
    heads = [_manifest_head(entry.created_at) for entry in entries]
    view = memoryview(body)

    def blob_id(number: int) -> bytes:
        size = len(heads[number]) + ends[number] + len(MANIFEST_TAIL)
        digest = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
        digest.update(heads[number])
        digest.update(view[: ends[number]])
        digest.update(MANIFEST_TAIL)
        return digest.digest()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        blob_ids = list(pool.map(blob_id, range(count)))

    # The init commit: trust file, empty manifests and .gitattributes.
    signers = f'{EMAIL} namespaces="git" {signer.public_line}\n'.encode()
    attributes = ("\n".join(ATTRIBUTE_LINES) + "\n").encode()
    empty_models = serialize(empty_manifest("model", updated_at=utc_timestamp(START_EPOCH)))
    empty_datasets = serialize(empty_manifest("dataset", updated_at=utc_timestamp(START_EPOCH)))
    trust_tree = put(
        "tree", OBJ_TREE, _tree([("allowed_signers", put("blob", OBJ_BLOB, signers), False)])
    )
    datasets_tree = put(
        "tree", OBJ_TREE, _tree([("catalog.json", put("blob", OBJ_BLOB, empty_datasets), False)])
    )
    attributes_id = put("blob", OBJ_BLOB, attributes)

    def root_tree(manifest: bytes) -> bytes:
        registry = put("tree", OBJ_TREE, _tree([("releases.json", manifest, False)]))
        models = put("tree", OBJ_TREE, _tree([("registry", registry, True)]))
        return put(
            "tree",
            OBJ_TREE,
            _tree(
                [
                    (".gitattributes", attributes_id, False),
                    (".gitreg", trust_tree, True),
                    ("datasets", datasets_tree, True),
                    ("models", models, True),
                ]
            ),
        )

    def commit(tree: bytes, parent: bytes | None, epoch: int, message: str) -> bytes:
        stamp = f"{IDENTITY} {epoch} +0000"
        parents = f"parent {parent.hex()}\n" if parent else ""
        payload = f"tree {tree.hex()}\n{parents}author {stamp}\ncommitter {stamp}\n"
        signature = signer.sign((payload + "\n" + message).encode())
        header = "gpgsig " + "\n ".join(signature.rstrip("\n").split("\n")) + "\n"
        return put("commit", OBJ_COMMIT, (payload + header + "\n" + message).encode())

    init_blob = put("blob", OBJ_BLOB, empty_models)
    head = commit(root_tree(init_blob), None, START_EPOCH, "Initialize gitreg registry\n")
    refs = []
    previous_size = 0
    for number, entry in enumerate(entries):
        size = len(heads[number]) + ends[number] + len(MANIFEST_TAIL)
        if number % FULL_EVERY == 0:
            data = heads[number] + body[: ends[number]] + MANIFEST_TAIL
            pack.add(OBJ_BLOB, data, blob_ids[number])
        else:
            previous_head = len(heads[number - 1])
            ops: list[tuple[str, int, int] | bytes] = [heads[number]]
            copied = ends[number - 1]
            for start in range(0, copied, 0xFFFF00):
                ops.append(("copy", previous_head + start, min(0xFFFF00, copied - start)))
            ops.append(b",\n" + blocks[number] + MANIFEST_TAIL)
            pack.add_delta(blob_ids[number], blob_ids[number - 1], _delta(previous_size, size, ops))
        previous_size = size
        epoch = START_EPOCH + number + 1
        head = commit(
            root_tree(blob_ids[number]), head, epoch, commit_message(entry, verb="Publish")
        )
        payload = (
            f"object {head.hex()}\ntype commit\ntag {entry.tag_name}\n"
            f"tagger {IDENTITY} {epoch} +0000\n\n{tag_message(entry)}"
        )
        tag = put("tag", OBJ_TAG, (payload + signer.sign(payload.encode())).encode())
        refs.append((f"refs/tags/{entry.tag_name}", tag, head))
    pack.write(Path(repo.path) / "objects" / "pack")
    lines = ["# pack-refs with: peeled fully-peeled sorted "]
    for name, target, peeled in sorted([("refs/heads/main", head, None), *refs]):
        lines.append(f"{target.hex()} {name}")
        if peeled is not None:
            lines.append(f"^{peeled.hex()}")
    (Path(repo.path) / "packed-refs").write_text("\n".join(lines) + "\n")
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=work, check=True)
    final = (work / MANIFEST_PATHS["model"]).read_bytes()
    if serialize(parse(final, kind="model", source="bench")) != final:
        raise SystemExit("bench bug: the built manifest is not canonical")
    return work


def time_verify(work: Path, runs: int) -> float:
    """Return the best wall time of ``gitreg verify --no-hash`` as a whole process."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "gitreg", "verify", "--no-hash", "--json"],
            cwd=work,
            capture_output=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"verify failed on {work}:\n{result.stdout.decode()[-3000:]}")
        compared = orjson.loads(result.stdout)["manifests_compared"]
        if compared > 3:
            # Only the init commit's two manifests and the first entry need a full comparison.
            raise SystemExit(f"verify compared {compared} manifest versions; the fast path failed")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000", help="Comma-separated entry counts.")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs per size; the best counts.")
    parser.add_argument("--keep", type=Path, help="Build in this folder and keep it.")
    parser.add_argument(
        "--fsck", action="store_true", help="Run 'git fsck' on each built registry."
    )
    options = parser.parse_args()
    root = options.keep or Path(tempfile.mkdtemp(prefix="gitreg-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    timings: dict[int, float] = {}
    try:
        for count in (int(size) for size in options.sizes.split(",")):
            start = time.perf_counter()
            work = build(root, count)
            built = time.perf_counter() - start
            subprocess.run(
                ["git", "verify-commit", "HEAD"], cwd=work, check=True, capture_output=True
            )
            subprocess.run(
                ["git", "verify-tag", f"model/model-{count:05d}@v1.0.0"],
                cwd=work,
                check=True,
                capture_output=True,
            )
            if options.fsck:
                subprocess.run(["git", "fsck", "--no-dangling"], cwd=work, check=True)
            timings[count] = time_verify(work, options.runs)
            figures = f"built in {built:.1f} s, verify --no-hash {timings[count]:.2f} s"
            print(f"{count:>6} entries: {figures}")
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    if len(timings) >= 2:
        small, large = min(timings), max(timings)
        ratio = timings[large] / timings[small]
        print(f"ratio {large}/{small}: {ratio:.1f} (linear growth gives {large / small:.0f})")


if __name__ == "__main__":
    main()
