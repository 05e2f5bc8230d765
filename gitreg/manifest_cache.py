"""A record of manifest bytes that passed full validation, kept in the git directory.

Validating 10,000 entries takes about 0.2 s, and most commands read the very bytes
that the previous command read or wrote. The record contains the SHA-256 of the last
few canonical manifests that passed ``manifest.parse``, or that a publish built
from such a manifest and one validated entry, so that reading identical bytes
again skips validation. Bytes with any other digest are parsed in full: a manual
edit, a checkout of another commit or a merge always falls back to validation.
Each record line also names the gitreg version, so an upgrade that changes the
rules validates again. ``verify`` never consults the record.

The record lives in the git directory, and anyone who can write there can also
rewrite the objects and refs it describes, so it adds no trust of its own. It is
only a cache: when it is missing or cannot be written, commands just take longer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from gitreg import __version__, manifest
from gitreg.manifest import Kind, Manifest

logger = logging.getLogger(__name__)

RECORD_PATH = Path("gitreg") / "validated-manifests"
MAX_RECORDS = 16


def record_key(data: bytes, *, kind: Kind) -> str:
    return f"{__version__}:{kind}:{hashlib.sha256(data).hexdigest()}"


class ManifestCache:
    """The validated-manifest record of one git directory."""

    def __init__(self, git_dir: Path) -> None:
        self.file = git_dir / RECORD_PATH

    def _keys(self) -> list[str]:
        try:
            return self.file.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return []

    def load(self, data: bytes, *, kind: Kind, source: str) -> Manifest:
        """Return the manifest in ``data``, validating it unless the record lists it.

        Raises:
            ManifestError: as ``manifest.parse`` does.
        """
        key = record_key(data, kind=kind)
        if key in self._keys():
            return manifest.from_validated_bytes(data, kind=kind)
        parsed = manifest.parse(data, kind=kind, source=source)
        if manifest.is_canonical(parsed):
            self._add(key)
        return parsed

    def remember(self, data: bytes, *, kind: Kind) -> None:
        """Record ``data`` as validated. Pass only canonical bytes that ``parse`` accepts."""
        self._add(record_key(data, kind=kind))

    def _add(self, key: str) -> None:
        kept = [line for line in self._keys() if line != key][-(MAX_RECORDS - 1) :]
        text = "".join(f"{line}\n" for line in [*kept, key])
        try:
            self.file.parent.mkdir(exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=".record-", dir=self.file.parent)
        except OSError as exc:
            # A read-only repository still works; its reads just validate every time.
            logger.debug("could not update %s: %s", self.file, exc)
            return
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(text)
            os.replace(temporary, self.file)
        except OSError as exc:
            logger.debug("could not update %s: %s", self.file, exc)
            Path(temporary).unlink(missing_ok=True)
