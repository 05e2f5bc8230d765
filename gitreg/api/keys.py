"""API keys: the key file, key generation and constant-time lookup.

The key file has one JSON object per line (JSON Lines); blank lines and lines
starting with ``#`` are ignored::

    {"name": "acme-board", "sha256": "<64 hex digits>", "clients": ["acme-corp"], "writer": false}
    {"name": "release-bot", "sha256": "<64 hex digits>", "clients": "*", "writer": true}

``name`` labels the key in logs and listings. ``sha256`` is the SHA-256 of the
key in hex; the key itself is never stored. ``clients`` is a list of client slugs,
or ``"*"`` for every client including entries without a client. ``writer`` allows
publishing when the server runs with ``--allow-writes``.

Keys are random 256-bit tokens, so a plain SHA-256 is enough to make a stolen
key file useless: there is no password to guess. Lookup hashes the presented key
and compares it with every stored hash through ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from gitreg.entries import SHA256_PATTERN, Entry
from gitreg.errors import RejectedError, UsageError
from gitreg.names import CLIENT_PATTERN, check_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "gitreg_"
ALL_CLIENTS = "*"
KEY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"

ClientSlug = Annotated[StrictStr, Field(pattern=CLIENT_PATTERN)]


class KeyRecord(BaseModel):
    """One line of the key file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[StrictStr, Field(pattern=KEY_NAME_PATTERN)]
    sha256: Annotated[StrictStr, Field(pattern=SHA256_PATTERN)]
    clients: Literal["*"] | Annotated[tuple[ClientSlug, ...], Field(min_length=1)]
    writer: StrictBool = False

    def scope(self) -> Scope:
        clients = None if self.clients == ALL_CLIENTS else frozenset(self.clients)
        return Scope(clients=clients, writer=self.writer, key_name=self.name)


@dataclass(frozen=True)
class Scope:
    """The entries one request may read, and whether it may publish.

    ``clients`` is None for every client, including entries that have no client;
    otherwise only entries whose client is in the set are visible.
    """

    clients: frozenset[str] | None
    writer: bool
    key_name: str | None

    @classmethod
    def open(cls) -> Scope:
        """Return the scope of a server without a key file: everything, read-only."""
        return cls(clients=None, writer=False, key_name=None)

    @property
    def all_clients(self) -> bool:
        return self.clients is None

    def allows(self, client: str | None) -> bool:
        """Return whether entries of ``client`` (None: entries without a client) are visible."""
        if self.clients is None:
            return True
        return client is not None and client in self.clients

    def sees(self, entry: Entry) -> bool:
        return self.allows(entry.client)


def hash_key(key: str) -> str:
    """Return the hex SHA-256 of ``key``, as the key file stores it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    """Return a new random key; the prefix lets secret scanners recognise it."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class KeyRing:
    """The records of one key file, in file order."""

    records: tuple[KeyRecord, ...]

    def authenticate(self, presented: str) -> KeyRecord | None:
        """Return the record whose hash matches ``presented``, or None.

        Every stored hash is compared, in constant time each, so the time taken does
        not depend on which record matched or how much of a hash was right.
        """
        digest = hash_key(presented)
        found = None
        for record in self.records:
            if hmac.compare_digest(digest, record.sha256):
                found = record
        return found


def parse_key_file(data: bytes, *, source: str) -> KeyRing:
    """Parse the key file format described in this module's docstring.

    Raises:
        UsageError: a line is not a valid key record, or a name or hash repeats;
            the message names ``source`` and the line number.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"key file '{source}' is not UTF-8 (byte {exc.start})",
            hint="write the key file as UTF-8 JSON Lines",
        ) from None
    records: list[KeyRecord] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        records.append(_parse_record(stripped, source=f"{source}:{number}"))
    _check_unique(records, source)
    return KeyRing(records=tuple(records))


def _parse_record(line: str, *, source: str) -> KeyRecord:
    hint = (
        'each line is {"name": ..., "sha256": ..., "clients": [...] or "*", "writer": false}; '
        "create keys with 'gitreg api-key add'"
    )
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{source}: invalid JSON: {exc}", hint=hint) from None
    try:
        return KeyRecord.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "line"
        raise UsageError(f"{source}: {where}: {first['msg']}", hint=hint) from None


def _check_unique(records: list[KeyRecord], source: str) -> None:
    names: set[str] = set()
    hashes: set[str] = set()
    for record in records:
        if record.name in names:
            raise UsageError(
                f"key file '{source}' names key '{record.name}' twice",
                hint="give each key its own name",
            )
        if record.sha256 in hashes:
            raise UsageError(
                f"key file '{source}' has the hash of key '{record.name}' twice",
                hint="remove the duplicate line; each key must be stored once",
            )
        names.add(record.name)
        hashes.add(record.sha256)


def read_key_file(path: Path) -> KeyRing:
    """Read and parse a key file.

    Raises:
        UsageError: the file is missing, unreadable or malformed.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"key file '{path}' not found",
            hint="create it with 'gitreg api-key add --keys FILE ...'",
        ) from None
    except OSError as exc:
        raise UsageError(f"key file '{path}' cannot be read: {exc.strerror}") from None
    return parse_key_file(data, source=str(path))


def _render(records: Iterable[KeyRecord]) -> bytes:
    lines = [orjson.dumps(record.model_dump(mode="json")) + b"\n" for record in records]
    return b"".join(lines)


def _write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically; ``mkstemp`` creates the file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_key(path: Path, *, name: str, clients: tuple[str, ...] | None, writer: bool) -> str:
    """Create a key, append its record to ``path`` and return the key.

    ``clients`` None binds the key to every client. The key is returned once and
    never stored; only its hash is written.

    Raises:
        UsageError: the name or a client slug is invalid, or the file is malformed.
        RejectedError: a key with this name already exists.
    """
    existing = read_key_file(path).records if path.exists() else ()
    if any(record.name == name for record in existing):
        raise RejectedError(
            f"key '{name}' already exists in '{path}'",
            hint=f"pick another name, or revoke the old key with "
            f"'gitreg api-key remove --name {name}'",
        )
    if not re.fullmatch(KEY_NAME_PATTERN, name):
        raise UsageError(
            f"key name '{name}' is not valid",
            hint="start with a letter or digit and use only letters, digits, '.', '_' and '-', "
            "at most 100 characters",
        )
    if clients is not None and not clients:
        raise UsageError(
            f"key '{name}' has no client", hint="pass --client SLUG, or --all-clients"
        )
    for client in clients or ():
        check_client(client)
    key = generate_key()
    document = {
        "name": name,
        "sha256": hash_key(key),
        "clients": ALL_CLIENTS if clients is None else list(clients),
        "writer": writer,
    }
    # The checks above cover every field the caller chose, so a failure here is a bug.
    record = KeyRecord.model_validate(document)
    _write_private(path, _render((*existing, record)))
    logger.info("added API key %s to %s", name, path)
    return key


def remove_key(path: Path, *, name: str) -> None:
    """Remove the key called ``name`` from ``path``.

    Raises:
        UsageError: the file is missing or malformed.
        RejectedError: no key has that name.
    """
    existing = read_key_file(path).records
    kept = [record for record in existing if record.name != name]
    if len(kept) == len(existing):
        raise RejectedError(
            f"key '{name}' not found in '{path}'",
            hint=f"list the keys with 'gitreg api-key list --keys {path}'",
        )
    _write_private(path, _render(kept))
    logger.info("removed API key %s from %s", name, path)


class KeyStore:
    """A key file that is read again whenever it changes on disk.

    Operators add and revoke keys without restarting the server. A file that
    becomes unreadable or malformed fails closed: every request is rejected until
    it is fixed, and the problem is logged once per version of the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._stat()
        self._ring: KeyRing | UsageError = read_key_file(path)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size, status.st_ino)

    def current(self) -> KeyRing:
        """Return the key ring as the file is now.

        Raises:
            UsageError: the key file is missing or malformed.
        """
        stamp = self._stat()
        if stamp != self._stamp:
            self._reload(stamp)
        if isinstance(self._ring, UsageError):
            raise self._ring
        return self._ring

    def _reload(self, stamp: tuple[int, int, int] | None) -> None:
        self._stamp = stamp
        try:
            self._ring = read_key_file(self.path)
        except UsageError as exc:
            self._ring = exc
            logger.error("key file unusable, rejecting every request until it is fixed: %s", exc)
            return
        logger.info("reloaded key file %s: %d keys", self.path, len(self._ring.records))
