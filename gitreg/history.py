"""History checks of ``verify``: append-only manifests, trusted signatures, honest tags.

The walk visits every commit from the root (or from ``--since``) to HEAD, parents
first, and does work only where something registry-related changed:

- A commit whose manifest blob ids and ``.gitreg`` tree id equal its parent's is
  skipped after three tree lookups.
- A commit that published one entry through gitreg names it in its trailers. The
  fast path accepts it when that entry exists at HEAD with the digest the trailer
  names and the manifest grew by exactly that entry's canonical size. Reading
  blob sizes costs O(1), so the walk stays linear in the number of commits.
- Every other manifest change (hand edits, merges, a size that does not fit, an
  entry gone from HEAD) takes the exact path: both manifest versions are parsed
  and compared entry by entry.

NOTE: the fast path proves a commit's change by its size, not its bytes. An edit
that keeps the size, made together with a publish and undone before HEAD, passes
it. An edit still present at HEAD is caught through the tag digest and located by
bisection. ``--full-history`` takes the exact path for every commit (quadratic).

Trust: each registry commit and its tag must be signed by a key that the trust
files in force at the commit's first parent allow. A change to the trust files
takes effect only if the commit making it passes that check. The first commit with
trust files, when its parent has none, is trusted by its own files (trust on first
use).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from gitreg.entries import Entry
from gitreg.errors import UsageError
from gitreg.gitrepo import CommitRecord, Repository, SignedObject
from gitreg.manifest import ENTRY_CLASSES, ENTRY_KEYS, KINDS, MANIFEST_PATHS, Kind, Manifest
from gitreg.trust import TRUST_DIR, GpgVerifier, TrustError, TrustPolicy, policy_from_files
from gitreg.verify import Check, VerifyReport

WATCHED_PATHS = (MANIFEST_PATHS["model"], MANIFEST_PATHS["dataset"], TRUST_DIR)
_DIGEST_TRAILER = re.compile(r"^Registry-Entry-Digest: sha256:([0-9a-f]{64})$", re.MULTILINE)
_ID_TRAILER = re.compile(r"^Registry-Entry-Id: (\S+)$", re.MULTILINE)
_SHORT = 12

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class _Added:
    """The commit that added an entry, and the entry's digest in that commit."""

    commit: str
    digest: str
    kind: Kind
    entry_id: str


@dataclass(frozen=True)
class _Parsed:
    """One manifest version reduced to what the exact path compares."""

    entries: dict[str, dict[str, Any]]
    texts: dict[str, bytes]
    duplicate_ids: frozenset[str]


def _short(commit: str) -> str:
    return commit[:_SHORT]


def _subject(record: CommitRecord) -> str:
    return record.message.split("\n", 1)[0].strip()


def _entry_block_size(entry: Entry) -> int:
    """Return the bytes an entry adds to a canonical manifest that already has entries.

    The entry is written at nesting depth 2, so every line of its two-space
    indented JSON gains four spaces, and ``,\\n`` separates it from its neighbour.
    """
    text = orjson.dumps(entry.to_json_dict(), option=orjson.OPT_INDENT_2)
    return len(text) + 4 * (text.count(b"\n") + 1) + 2


@dataclass
class HistoryWalk:
    """State of one walk; ``run`` fills the three history checks of a report."""

    repo: Repository
    head: str
    head_manifests: dict[Kind, Manifest]
    since: str | None = None
    full_history: bool = False
    gpg: GpgVerifier = field(default_factory=GpgVerifier)
    on_progress: ProgressCallback | None = None
    appends: Check = field(default_factory=lambda: Check("", ""))
    signatures: Check = field(default_factory=lambda: Check("", ""))
    tag_history: Check = field(default_factory=lambda: Check("", ""))
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commits_walked: int = 0
    registry_commits: int = 0
    signatures_checked: int = 0
    manifests_compared: int = 0
    _path_ids: dict[str, dict[str, str | None]] = field(default_factory=dict)
    _trust_after: dict[str, str | None] = field(default_factory=dict)
    _policies: dict[str, TrustPolicy] = field(default_factory=dict)
    _commit_policy: dict[str, TrustPolicy | None] = field(default_factory=dict)
    _added: dict[str, _Added] = field(default_factory=dict)
    _manifest_commits: dict[Kind, list[str]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )
    _unchecked: list[str] = field(default_factory=list)
    _head_by_id: dict[Kind, dict[str, Entry]] = field(default_factory=dict)
    _parsed_cache: dict[str, _Parsed | None] = field(default_factory=dict)
    _head_tags: dict[Kind, dict[str, Entry]] = field(default_factory=dict)

    # Walking -------------------------------------------------------------------

    def run(self) -> None:
        """Walk the history and check every registry commit and tag."""
        self._head_by_id = {
            kind: {entry.id: entry for entry in manifest.entries}
            for kind, manifest in self.head_manifests.items()
        }
        records = list(self.repo.walk(self.head, paths=WATCHED_PATHS, hide=self.since))
        if self.since is not None:
            self._path_ids[self.since] = self.repo.path_ids_at(self.since, WATCHED_PATHS)
            self._trust_after[self.since] = self._path_ids[self.since][TRUST_DIR]
        for done, record in enumerate(records, start=1):
            self._visit(record)
            if self.on_progress is not None:
                self._report_progress(done, len(records))
        self.commits_walked = len(records)
        walked = {record.id for record in records}
        self._check_tags(walked)
        self._check_head_entries()
        if self._unchecked:
            self.warnings.append(
                f"signatures were not checked for {len(self._unchecked)} registry "
                f"commit{'s' if len(self._unchecked) != 1 else ''} "
                f"(first {_short(self._unchecked[0])}): "
                f"no trust files ({TRUST_DIR}/allowed_signers or {TRUST_DIR}/*.asc) were in force; "
                "run 'gitreg init' or 'gitreg signers add' to set a policy"
            )

    def _report_progress(self, done: int, total: int) -> None:
        if done == total or done % 256 == 0:
            assert self.on_progress is not None
            self.on_progress(done, total)

    def _parent_ids(self, commit: str) -> dict[str, str | None]:
        found = self._path_ids.get(commit)
        if found is None:
            found = self.repo.path_ids_at(commit, WATCHED_PATHS)
            self._path_ids[commit] = found
        return found

    def _visit(self, record: CommitRecord) -> None:
        self._path_ids[record.id] = record.path_ids
        parents = [self._parent_ids(parent) for parent in record.parents]
        first = record.parents[0] if record.parents else None
        trust_before = self._trust_after.get(first) if first is not None else None
        changed = [
            kind
            for kind in KINDS
            if any(
                ids[MANIFEST_PATHS[kind]] != record.path_ids[MANIFEST_PATHS[kind]]
                for ids in parents
            )
            or (not parents and record.path_ids[MANIFEST_PATHS[kind]] is not None)
        ]
        own_trust = record.path_ids[TRUST_DIR]
        first_trust = parents[0][TRUST_DIR] if parents else None
        trust_changed = own_trust != first_trust
        if not changed and not trust_changed:
            self._trust_after[record.id] = trust_before
            return
        self.registry_commits += 1
        signed_ok, policy = self._check_commit_signature(record, trust_before, own_trust)
        self._trust_after[record.id] = self._next_trust(
            record, trust_before, own_trust, trust_changed=trust_changed, signed_ok=signed_ok
        )
        self._commit_policy[record.id] = policy
        for kind in changed:
            self._manifest_commits[kind].append(record.id)
            blobs = [ids[MANIFEST_PATHS[kind]] for ids in parents]
            self._check_manifest_change(record, kind, blobs)

    # Trust ---------------------------------------------------------------------

    def _policy(self, tree_id: str) -> TrustPolicy:
        found = self._policies.get(tree_id)
        if found is None:
            files = {
                name: self.repo.read_blob(blob)
                for name, blob in self.repo.tree_blobs(tree_id).items()
            }
            found = policy_from_files(files, source=f"{TRUST_DIR} ({tree_id[:_SHORT]})")
            self._policies[tree_id] = found
        return found

    def _check_commit_signature(
        self, record: CommitRecord, trust_before: str | None, own_trust: str | None
    ) -> tuple[bool, TrustPolicy | None]:
        tree = trust_before
        if tree is None and own_trust is not None:
            tree = own_trust
            self.notes.append(
                f"commit {_short(record.id)} ({_subject(record)}) "
                "is trusted by its own trust files "
                "(trust on first use): confirm out of band that its signer is who you expect"
            )
        if tree is None:
            self._unchecked.append(record.id)
            return True, None
        try:
            policy = self._policy(tree)
        except TrustError as exc:
            self.signatures.failures.append(f"commit {_short(record.id)}: {exc.message}")
            return False, None
        signed = self.repo.commit_signed_object(record.id)
        where = f"commit {_short(record.id)} ({_subject(record)})"
        if signed.signature is None:
            self.signatures.failures.append(
                f"{where} is not signed, but {TRUST_DIR} requires signatures"
            )
            return False, policy
        try:
            self.signatures_checked += 1
            policy.check(signed.signature, signed.payload, at=record.time, gpg=self.gpg)
        except TrustError as exc:
            self.signatures.failures.append(f"{where}: {exc.message}")
            return False, policy
        return True, policy

    def _next_trust(
        self,
        record: CommitRecord,
        trust_before: str | None,
        own_trust: str | None,
        *,
        trust_changed: bool,
        signed_ok: bool,
    ) -> str | None:
        if not trust_changed:
            return trust_before
        if own_trust is not None:
            try:
                self._policy(own_trust)
            except TrustError as exc:
                self.signatures.failures.append(
                    f"commit {_short(record.id)}: {exc.message}; the change is ignored"
                )
                return trust_before
        if signed_ok:
            return own_trust
        self.signatures.failures.append(
            f"commit {_short(record.id)} changed {TRUST_DIR} without a trusted signature; "
            "the change is ignored, so keys it added are not trusted"
        )
        return trust_before

    # Manifests -----------------------------------------------------------------

    def _check_manifest_change(
        self, record: CommitRecord, kind: Kind, parent_blobs: list[str | None]
    ) -> None:
        path = MANIFEST_PATHS[kind]
        child = record.path_ids[path]
        if child is None:
            self.appends.failures.append(
                f"commit {_short(record.id)} ({_subject(record)}) deleted {path}"
            )
            return
        parent = parent_blobs[0] if len(parent_blobs) == 1 else None
        if not self.full_history and parent is not None and self._fast(record, kind, parent, child):
            return
        self._exact(record, kind, parent_blobs, child)

    def _fast(self, record: CommitRecord, kind: Kind, parent: str, child: str) -> bool:
        ids = _ID_TRAILER.findall(record.message)
        digests = _DIGEST_TRAILER.findall(record.message)
        if len(ids) != 1 or len(digests) != 1:
            return False
        entry = self._head_by_id[kind].get(ids[0])
        if entry is None or entry.digest() != digests[0]:
            return False
        grown = self.repo.blob_size(child) - self.repo.blob_size(parent)
        if grown != _entry_block_size(entry):
            return False
        self._record_added(record, kind, entry.tag_name, entry.id, digests[0])
        return True

    def _parse(self, blob: str, kind: Kind) -> _Parsed | None:
        if blob in self._parsed_cache:
            return self._parsed_cache[blob]
        if len(self._parsed_cache) > 4:
            self._parsed_cache.clear()
        try:
            document = orjson.loads(self.repo.read_blob(blob))
            items = document[ENTRY_KEYS[kind]]
            entries = {item["id"]: item for item in items}
            counts = Counter(item["id"] for item in items)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            parsed = None
        else:
            texts = {key: orjson.dumps(value) for key, value in entries.items()}
            duplicates = frozenset(key for key, count in counts.items() if count > 1)
            parsed = _Parsed(entries, texts, duplicates)
        self._parsed_cache[blob] = parsed
        return parsed

    def _exact(
        self, record: CommitRecord, kind: Kind, parent_blobs: list[str | None], child_blob: str
    ) -> None:
        where = f"commit {_short(record.id)} ({_subject(record)})"
        path = MANIFEST_PATHS[kind]
        self.manifests_compared += 1
        child = self._parse(child_blob, kind)
        if child is None:
            self.appends.failures.append(f"{where}: {path} is not a readable manifest")
            return
        seen: set[str] = set()
        inherited: set[str] = set()
        for blob in parent_blobs:
            if blob is None:
                continue
            parent = self._parse(blob, kind)
            if parent is None:
                continue
            seen.update(parent.entries)
            inherited.update(parent.duplicate_ids)
            if blob != child_blob:
                self._compare(where, path, parent, child)
        for entry_id in sorted(child.duplicate_ids - inherited):
            self.appends.failures.append(
                f"{where}: two entries in {path} share the id {entry_id}; every entry needs its own"
            )
        for entry_id in child.entries.keys() - seen:
            self._validate_added(record, kind, child.entries[entry_id])

    def _compare(self, where: str, path: str, parent: _Parsed, child: _Parsed) -> None:
        for entry_id, old in parent.entries.items():
            label = _label(old)
            new = child.entries.get(entry_id)
            if new is None:
                self.appends.failures.append(
                    f"{where} removed entry {label} (id {entry_id}) from {path}; "
                    "entries are append-only"
                )
            elif child.texts[entry_id] != parent.texts[entry_id]:
                fields = sorted(
                    key for key in old.keys() | new.keys() if old.get(key) != new.get(key)
                )
                self.appends.failures.append(
                    f"{where} changed entry {label} "
                    f"({', '.join(fields) or 'key order'}) in {path}; "
                    "published entries are immutable, so publish a new version instead"
                )

    def _validate_added(self, record: CommitRecord, kind: Kind, item: dict[str, Any]) -> None:
        where = f"commit {_short(record.id)} ({_subject(record)})"
        try:
            entry = ENTRY_CLASSES[kind].model_validate(item)
        except ValidationError as exc:
            problem = exc.errors()[0]
            location = ".".join(str(part) for part in problem["loc"])
            self.appends.failures.append(
                f"{where} added an invalid entry {_label(item)}: {location}: {problem['msg']}"
            )
            return
        self._record_added(record, kind, entry.tag_name, entry.id, entry.digest())

    def _record_added(
        self, record: CommitRecord, kind: Kind, tag_name: str, entry_id: str, digest: str
    ) -> None:
        earlier = self._added.get(tag_name)
        if earlier is not None:
            self.appends.failures.append(
                f"commit {_short(record.id)} added {tag_name} again; commit "
                f"{_short(earlier.commit)} added it first"
            )
            return
        self._added[tag_name] = _Added(record.id, digest, kind, entry_id)

    # Tags and HEAD -------------------------------------------------------------

    def _check_tags(self, walked: set[str]) -> None:
        for kind in KINDS:
            for name in self.repo.tag_names(f"{kind}/"):
                self._check_tag(name, walked)

    def _check_tag(self, name: str, walked: set[str]) -> None:
        tag = self.repo.tag(name)
        if tag is None:
            return
        if tag.target not in walked:
            if self.since is not None and self.repo.is_ancestor(tag.target, self.since):
                self._check_earlier_tag(name, tag.message)
                return
            self.tag_history.failures.append(
                f"tag {name} points at commit {_short(tag.target)}, which is not in the history of "
                "HEAD (the history was rewritten or the tag belongs to another branch; "
                "fetch the branch that holds it, or restore the original history)"
            )
            return
        added = self._added.get(name)
        if added is None:
            self.tag_history.failures.append(
                f"tag {name} points at commit {_short(tag.target)}, but no commit in the history "
                "added its entry"
            )
            return
        if tag.target != added.commit:
            self.tag_history.failures.append(
                f"tag {name} points at commit {_short(tag.target)}, but commit "
                f"{_short(added.commit)} added its entry (the tag was moved)"
            )
        if not tag.annotated:
            self.tag_history.failures.append(
                f"tag {name} is a lightweight tag; registry tags must be annotated and carry the "
                "entry digest"
            )
            return
        if tag.object_name != name:
            self.tag_history.failures.append(
                f"tag {name} points at a tag object named '{tag.object_name}' "
                "(a tag object was copied to another name)"
            )
        digests = _DIGEST_TRAILER.findall(tag.message)
        if digests != [added.digest]:
            self.tag_history.failures.append(
                f"tag {name}: message does not carry the digest sha256:{added.digest[:_SHORT]} of "
                f"the entry that commit {_short(added.commit)} added (the message was edited)"
            )
        self._check_tag_signature(name, tag.target, tag.signed, tag.tagger_time)

    def _check_earlier_tag(self, name: str, message: str) -> None:
        """Compare a tag made before ``--since`` with its entry at HEAD, by digest only."""
        kind: Kind = "model" if name.startswith("model/") else "dataset"
        entry = self._head_by_tag(kind).get(name)
        if entry is None:
            return
        if _DIGEST_TRAILER.findall(message) != [entry.digest()]:
            self.appends.failures.append(
                f"entry {name} at HEAD does not match the digest its tag carries; "
                "it changed after it was published (run verify without --since to find the commit)"
            )

    def _head_by_tag(self, kind: Kind) -> dict[str, Entry]:
        found = self._head_tags.get(kind)
        if found is None:
            found = {entry.tag_name: entry for entry in self._head_by_id[kind].values()}
            self._head_tags[kind] = found
        return found

    def _check_tag_signature(
        self, name: str, target: str, signed: SignedObject | None, at: int | None
    ) -> None:
        policy = self._commit_policy.get(target)
        if policy is None:
            return
        if signed is None or signed.signature is None:
            self.signatures.failures.append(
                f"tag {name} is not signed, but {TRUST_DIR} requires signatures"
            )
            return
        try:
            self.signatures_checked += 1
            policy.check(signed.signature, signed.payload, at=at or 0, gpg=self.gpg)
        except TrustError as exc:
            self.signatures.failures.append(f"tag {name}: {exc.message}")

    def _check_head_entries(self) -> None:
        for kind, by_id in self._head_by_id.items():
            for entry in by_id.values():
                added = self._added.get(entry.tag_name)
                if added is None:
                    if self.since is None:
                        self.appends.failures.append(
                            f"entry {entry.tag_name} is in {MANIFEST_PATHS[kind]} at HEAD, but no "
                            "commit in the history added it"
                        )
                    continue
                if added.entry_id != entry.id or added.digest != entry.digest():
                    culprit = self._locate_change(kind, added)
                    self.appends.failures.append(
                        f"entry {entry.tag_name} at HEAD differs from what commit "
                        f"{_short(added.commit)} published"
                        + (f"; commit {_short(culprit)} changed it" if culprit else "")
                    )

    def _locate_change(self, kind: Kind, added: _Added) -> str | None:
        """Bisect the manifest commits after ``added.commit`` for the first that altered it."""
        commits = self._manifest_commits[kind]
        start = commits.index(added.commit) + 1
        low, high = start, len(commits)
        while low < high:
            middle = (low + high) // 2
            blob = self._path_ids[commits[middle]][MANIFEST_PATHS[kind]]
            parsed = None if blob is None else self._parse(blob, kind)
            intact = (
                parsed is not None
                and added.entry_id in parsed.entries
                and _digest(parsed.texts[added.entry_id]) == added.digest
            )
            if intact:
                low = middle + 1
            else:
                high = middle
        return commits[low] if low < len(commits) else None


def _digest(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def _label(item: dict[str, Any]) -> str:
    return f"{item.get('type', '?')}/{item.get('name', '?')}@v{item.get('version', '?')}"


def add_history_checks(
    repo: Repository,
    report: VerifyReport,
    *,
    head_manifests: dict[Kind, Manifest],
    since: str | None = None,
    full_history: bool = False,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Append the history checks to ``report``.

    Raises:
        UsageError: ``since`` is not a commit that HEAD descends from.
        GitError: ``since`` does not name a commit.
    """
    appends = report.check(
        "history", "every commit that changed a manifest only appended valid entries"
    )
    signatures = report.check(
        "signatures", "every registry commit and tag is signed by a key its trust files allow"
    )
    tag_history = report.check(
        "tag-history",
        "every registry tag points at the commit that added its entry and carries its digest",
    )
    head = repo.head_commit()
    if head is None:
        return
    if repo.is_shallow:
        # The repository check of verify_current already fails and names the fix.
        for check in (appends, signatures, tag_history):
            check.skipped = True
        return
    since_commit = None
    if since is not None:
        since_commit = repo.resolve(since)
        if not repo.is_ancestor(since_commit, head):
            raise UsageError(
                f"--since '{since}' is not an ancestor of HEAD",
                hint="pass a commit on the current branch, such as a pull request's merge base",
            )
    with GpgVerifier() as gpg:
        walk = HistoryWalk(
            repo=repo,
            head=head,
            head_manifests=head_manifests,
            since=since_commit,
            full_history=full_history,
            gpg=gpg,
            on_progress=on_progress,
            appends=appends,
            signatures=signatures,
            tag_history=tag_history,
        )
        walk.run()
    report.notes.extend(walk.notes)
    report.warnings.extend(walk.warnings)
    report.commits_walked = walk.commits_walked
    report.registry_commits = walk.registry_commits
    report.signatures_checked = walk.signatures_checked
    report.manifests_compared = walk.manifests_compared
