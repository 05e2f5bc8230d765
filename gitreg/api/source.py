"""The manifests as committed on a git ref, parsed once per blob and kept in memory.

Every request resolves the ref again, which costs a few reads of small files, so
a new commit is served without a restart. Parsing happens only when a manifest's
blob id changes; a commit that touches neither manifest reuses both parses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from gitreg.api.keys import Scope
from gitreg.entries import Entry
from gitreg.errors import GitError, ManifestError
from gitreg.gitrepo import Repository
from gitreg.manifest import ENTRY_KEYS, KINDS, MANIFEST_PATHS, Kind, Manifest, empty_manifest, parse

logger = logging.getLogger(__name__)

# The updated_at of a manifest that does not exist yet on the ref.
_EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class ManifestView:
    """A parsed manifest with each entry's JSON encoded once, indexed by client."""

    manifest: Manifest
    entry_json: tuple[bytes, ...]
    by_client: dict[str | None, tuple[int, ...]] = field(repr=False)

    @classmethod
    def build(cls, manifest: Manifest) -> ManifestView:
        positions: dict[str | None, list[int]] = {}
        for index, entry in enumerate(manifest.entries):
            positions.setdefault(entry.client, []).append(index)
        return cls(
            manifest=manifest,
            entry_json=tuple(orjson.dumps(entry.to_json_dict()) for entry in manifest.entries),
            by_client={client: tuple(found) for client, found in positions.items()},
        )

    def select(self, scope: Scope, *, client: str | None, release: str | None) -> Sequence[int]:
        """Return the positions of visible entries that pass both filters, in canonical order."""
        positions: Sequence[int]
        if client is not None:
            positions = self.by_client.get(client, ()) if scope.allows(client) else ()
        elif scope.clients is None:
            positions = range(len(self.entry_json))
        else:
            positions = sorted(
                index for allowed in scope.clients for index in self.by_client.get(allowed, ())
            )
        if release is None:
            return positions
        entries = self.manifest.entries
        return [index for index in positions if entries[index].release_tag == release]

    def entries(self, positions: Sequence[int]) -> list[Entry]:
        return [self.manifest.entries[index] for index in positions]

    def list_body(self, positions: Sequence[int]) -> bytes:
        """Return ``{"count": N, "models": [...]}`` (or ``"datasets"``) as JSON bytes."""
        key = ENTRY_KEYS[self.manifest.kind].encode("ascii")
        items = b",".join(self.entry_json[index] for index in positions)
        return b'{"count":%d,"%s":[%s]}' % (len(positions), key, items)


Loaded = ManifestView | ManifestError


@dataclass(frozen=True)
class Snapshot:
    """Both manifests at one commit of the served ref (None: the branch has no commits)."""

    commit: str | None
    views: dict[Kind, Loaded]

    def view(self, kind: Kind) -> ManifestView:
        """Return the parsed manifest of ``kind``.

        Raises:
            ManifestError: the manifest on the ref is invalid.
        """
        loaded = self.views[kind]
        if isinstance(loaded, ManifestError):
            raise loaded
        return loaded


class RegistrySource:
    """The registry as committed on ``ref`` (HEAD's branch when None) of ``repo``.

    Not thread-safe: the server calls it from its event loop only.
    """

    def __init__(self, repo: Repository, ref: str | None) -> None:
        self.repo = repo
        self.ref = ref
        self.parse_count = 0
        self._snapshot: Snapshot | None = None
        self._blobs: dict[Kind, tuple[str | None, Loaded]] = {}

    @property
    def ref_label(self) -> str:
        return self.ref if self.ref is not None else "HEAD"

    def snapshot(self) -> Snapshot:
        """Return the manifests at the commit the ref points at now.

        Raises:
            GitError: the ref no longer exists.
        """
        commit = self.repo.resolve_or_head(self.ref)
        if self._snapshot is not None and self._snapshot.commit == commit:
            return self._snapshot
        views = {kind: self._load(commit, kind) for kind in KINDS}
        self._snapshot = Snapshot(commit=commit, views=views)
        return self._snapshot

    def _load(self, commit: str | None, kind: Kind) -> Loaded:
        blob_id = self.repo.blob_id_at(commit, MANIFEST_PATHS[kind])
        cached = self._blobs.get(kind)
        if cached is not None and cached[0] == blob_id:
            return cached[1]
        loaded = self._parse(commit, kind, blob_id)
        self._blobs[kind] = (blob_id, loaded)
        return loaded

    def _parse(self, commit: str | None, kind: Kind, blob_id: str | None) -> Loaded:
        # NOTE: this runs on the event loop, so requests wait while a changed manifest
        # is parsed (under a second at 10,000 entries). Serving the previous snapshot
        # while a worker thread parses would remove the wait if it ever matters.
        if blob_id is None:
            return ManifestView.build(empty_manifest(kind, updated_at=_EPOCH))
        self.parse_count += 1
        source = f"{MANIFEST_PATHS[kind]} at {self.ref_label} ({(commit or '')[:12]})"
        try:
            manifest = parse(self.repo.read_blob(blob_id), kind=kind, source=source)
        except GitError as exc:
            failure = ManifestError(f"{source}: {exc.message}", hint=exc.hint)
            logger.error("cannot serve %s: %s", MANIFEST_PATHS[kind], failure)
            return failure
        except ManifestError as exc:
            # Logged here, once per blob, because the error is cached with the blob id.
            logger.error("cannot serve %s: %s", MANIFEST_PATHS[kind], exc)
            return exc
        logger.info("loaded %s: %d entries", source, len(manifest.entries))
        return ManifestView.build(manifest)
