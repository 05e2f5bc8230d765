"""Every pygit2 call gitreg makes.

The rest of the package sees plain values (hex ids, bytes, strings) and
``GitError``; pygit2 objects and exceptions stay inside this module.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FileStatus, ObjectType

from gitreg.errors import GitError

_FILE_MODE = 0o100644


@dataclass(frozen=True)
class Identity:
    """A git author or committer with the time of the action."""

    name: str
    email: str
    time: int
    offset_minutes: int

    def to_git(self) -> str:
        """Render as in a commit or tag header: ``Name <email> 1700000000 +0100``."""
        sign = "-" if self.offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        return f"{self.name} <{self.email}> {self.time} {sign}{hours:02d}{minutes:02d}"

    def to_pygit2(self) -> pygit2.Signature:
        return pygit2.Signature(self.name, self.email, self.time, self.offset_minutes)


@dataclass(frozen=True)
class CommitRecord:
    """One commit of a history walk, with the object ids of the paths it was asked about."""

    id: str
    parents: tuple[str, ...]
    time: int
    path_ids: dict[str, str | None]
    message: str


@dataclass(frozen=True)
class SignedObject:
    """A commit or tag: its signature (None when unsigned) and the bytes the signature covers."""

    signature: bytes | None
    payload: bytes


@dataclass(frozen=True)
class TagRecord:
    """An annotated or lightweight tag and what it points at."""

    name: str
    target: str
    annotated: bool
    message: str
    tagger_time: int | None
    signed: SignedObject | None
    # The name in the tag object's own header, which a copied tag object keeps.
    object_name: str | None = None


@dataclass(frozen=True)
class HeadState:
    """The checked-out branch and the commit it points at (None while unborn)."""

    branch: str
    commit: str | None


class Repository:
    """A git repository opened for gitreg."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._repo = repo

    # Opening and state -------------------------------------------------------

    @staticmethod
    def find(start: Path) -> Path | None:
        """Return the git directory that contains ``start``, or None outside any repository."""
        found = pygit2.discover_repository(str(start))
        return None if found is None else Path(found)

    @classmethod
    def discover(cls, start: Path) -> Repository:
        """Open the repository that contains ``start``.

        Raises:
            GitError: ``start`` is not inside a git repository.
        """
        found = pygit2.discover_repository(str(start))
        if found is None:
            raise GitError(
                f"'{start}' is not inside a git repository",
                hint="run gitreg inside a clone of the registry, or create one with 'git init'",
            )
        return cls(pygit2.Repository(found))

    @classmethod
    def init(cls, path: Path, *, branch: str = "main") -> Repository:
        """Create a non-bare repository at ``path`` whose first branch is ``branch``."""
        return cls(pygit2.init_repository(str(path), initial_head=branch))

    @property
    def git_dir(self) -> Path:
        return Path(self._repo.path)

    @property
    def is_bare(self) -> bool:
        return bool(self._repo.is_bare)

    @property
    def is_shallow(self) -> bool:
        return bool(self._repo.is_shallow)

    @property
    def workdir(self) -> Path:
        """The work tree root.

        Raises:
            GitError: the repository is bare.
        """
        if self._repo.workdir is None:
            raise GitError(
                f"'{self.git_dir}' is a bare repository",
                hint="run gitreg in a clone that has a work tree",
            )
        return Path(self._repo.workdir)

    def head_state(self) -> HeadState:
        """Return the checked-out branch and its commit.

        Raises:
            GitError: HEAD is detached.
        """
        if self._repo.head_is_detached:
            raise GitError(
                "HEAD is detached, so a publish has no branch to commit on",
                hint="check out a branch first, such as 'git switch main'",
            )
        branch = str(self._repo.references["HEAD"].target)
        if self._repo.head_is_unborn:
            return HeadState(branch=branch, commit=None)
        return HeadState(branch=branch, commit=str(self._repo.head.target))

    def resolve(self, revision: str) -> str:
        """Return the commit id that ``revision`` names.

        Raises:
            GitError: the revision does not exist or is not a commit.
        """
        try:
            commit = self._repo.revparse_single(revision).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise GitError(
                f"revision '{revision}' not found", hint="pass a branch, tag or commit id"
            ) from exc
        return str(commit.id)

    def head_commit(self) -> str | None:
        """Return the commit HEAD points at, or None in a repository without commits."""
        if self._repo.head_is_unborn:
            return None
        return str(self._repo.head.target)

    def resolve_or_head(self, revision: str | None) -> str | None:
        """Return the commit ``revision`` names, or HEAD's commit when it is None.

        HEAD is read again on every call, so a branch switch is followed. The result
        is None only for HEAD on an unborn branch.

        Raises:
            GitError: ``revision`` does not exist or is not a commit.
        """
        if revision is None:
            return self.head_commit()
        return self.resolve(revision)

    def reference_name(self, revision: str) -> str | None:
        """Return the full reference name ``revision`` abbreviates, such as ``refs/heads/main``.

        Returns None when ``revision`` is not a reference, such as a commit id.
        """
        try:
            return str(self._repo.lookup_reference_dwim(revision).name)
        except (KeyError, pygit2.InvalidSpecError):
            return None

    # Configuration ------------------------------------------------------------

    def config_value(self, key: str) -> str | None:
        try:
            return str(self._repo.config[key])
        except KeyError:
            return None

    def config_bool(self, key: str) -> bool | None:
        if self.config_value(key) is None:
            return None
        try:
            return bool(self._repo.config.get_bool(key))
        except (pygit2.GitError, ValueError) as exc:
            raise GitError(
                f"git config {key} is not a boolean", hint=f"set it with 'git config {key} true'"
            ) from exc

    def set_config(self, key: str, value: str) -> None:
        self._repo.config[key] = value

    def identity(self, *, time: int, offset_minutes: int = 0) -> Identity:
        """Return the committer identity, looked up as git does.

        ``GIT_COMMITTER_NAME`` and ``GIT_COMMITTER_EMAIL`` win over ``user.name`` and
        ``user.email``, and ``EMAIL`` is the last resort for the address.

        Raises:
            GitError: neither the environment nor ``user.name`` or ``user.email`` set one.
        """
        name = os.environ.get("GIT_COMMITTER_NAME") or self.config_value("user.name")
        email = (
            os.environ.get("GIT_COMMITTER_EMAIL")
            or self.config_value("user.email")
            or os.environ.get("EMAIL")
        )
        if not name or not email:
            missing = "user.name" if not name else "user.email"
            raise GitError(
                f"git identity is incomplete: {missing} is not set",
                hint=f"set it with 'git config {missing} \"...\"'",
            )
        return Identity(name=name, email=email, time=time, offset_minutes=offset_minutes)

    # Reading ------------------------------------------------------------------

    def blob_id_at(self, commit: str | None, path: str) -> str | None:
        """Return the blob id of ``path`` in ``commit``, or None where it is absent."""
        if commit is None:
            return None
        tree = self._repo[commit].peel(pygit2.Tree)
        try:
            entry = tree[path]
        except KeyError:
            return None
        if entry.type != ObjectType.BLOB:
            return None
        return str(entry.id)

    def read_blob(self, blob_id: str) -> bytes:
        """Return the content of a blob.

        Raises:
            GitError: the object database has no such object, as in a damaged clone.
        """
        try:
            return bytes(self._repo[blob_id].read_raw())
        except KeyError:
            raise GitError(
                f"object {blob_id} is missing from the repository",
                hint="run 'git fsck', and fetch or re-clone to restore it",
            ) from None

    def read_at(self, commit: str | None, path: str) -> bytes | None:
        """Return the content of ``path`` in ``commit``, or None where it is absent."""
        blob_id = self.blob_id_at(commit, path)
        return None if blob_id is None else self.read_blob(blob_id)

    def path_is_dirty(self, path: str) -> bool:
        """Return whether ``path`` differs from HEAD in the index or the work tree."""
        try:
            flags = self._repo.status_file(path)
        except KeyError:
            return False
        return flags not in (FileStatus.CURRENT, FileStatus.IGNORED)

    def tag_target(self, tag_name: str) -> str | None:
        """Return the commit a tag points at, or None where the tag does not exist."""
        ref = self._repo.references.get(f"refs/tags/{tag_name}")
        if ref is None:
            return None
        return str(self._repo[ref.target].peel(pygit2.Commit).id)

    def tag_exists(self, tag_name: str) -> bool:
        return f"refs/tags/{tag_name}" in self._repo.references

    def tag_names(self, prefix: str) -> Iterator[str]:
        """Yield the tag names that start with ``prefix``."""
        full = f"refs/tags/{prefix}"
        for ref in self._repo.references:
            if ref.startswith(full):
                yield ref[len("refs/tags/") :]

    def blob_size(self, blob_id: str) -> int:
        """Return a blob's size; for loose objects only the header is inflated."""
        return int(self._repo.odb.read_header(pygit2.Oid(hex=blob_id))[1])

    def tree_blobs(self, tree_id: str) -> dict[str, str]:
        """Return ``{name: blob id}`` for the files directly inside a tree."""
        tree = self._repo[tree_id].peel(pygit2.Tree)
        return {
            str(entry.name): str(entry.id) for entry in tree if entry.type == ObjectType.BLOB
        }

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Return whether ``ancestor`` is ``descendant`` or reachable from it."""
        if ancestor == descendant:
            return True
        return bool(self._repo.descendant_of(descendant, ancestor))

    def walk(
        self, head: str, *, paths: tuple[str, ...], hide: str | None = None
    ) -> Iterator[CommitRecord]:
        """Yield the commits reachable from ``head``, parents before children.

        Each record carries the object id of every path in ``paths`` (a blob or a
        tree), or None where the path is absent. Commits reachable from ``hide``
        are left out.
        """
        walker = self._repo.walk(
            pygit2.Oid(hex=head), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE
        )
        if hide is not None:
            walker.hide(pygit2.Oid(hex=hide))
        for commit in walker:
            yield CommitRecord(
                id=str(commit.id),
                parents=tuple(str(parent) for parent in commit.parent_ids),
                time=int(commit.commit_time),
                path_ids=_path_ids(commit.tree, paths),
                message=str(commit.message),
            )

    def path_ids_at(self, commit: str, paths: tuple[str, ...]) -> dict[str, str | None]:
        """Return the object id of each path in ``commit``, or None where it is absent."""
        return _path_ids(self._repo[commit].peel(pygit2.Tree), paths)

    def commit_message(self, commit: str) -> str:
        return str(self._repo[commit].peel(pygit2.Commit).message)

    def commit_signed_object(self, commit: str) -> SignedObject:
        """Return a commit's ``gpgsig`` signature and the commit text it covers."""
        found = self._repo[commit].peel(pygit2.Commit)
        signature, payload = found.gpg_signature
        if signature is None:
            return SignedObject(signature=None, payload=bytes(found.read_raw()))
        return SignedObject(signature=bytes(signature), payload=bytes(payload))

    def tag(self, tag_name: str) -> TagRecord | None:
        """Return a tag with its message and signature, or None where it does not exist."""
        ref = self._repo.references.get(f"refs/tags/{tag_name}")
        if ref is None:
            return None
        target = self._repo[ref.target]
        commit = str(target.peel(pygit2.Commit).id)
        if not isinstance(target, pygit2.Tag):
            return TagRecord(tag_name, commit, False, "", None, None)
        data = bytes(target.read_raw())
        split = signature_start(data)
        signed = SignedObject(
            signature=data[split:] if split < len(data) else None, payload=data[:split]
        )
        header_end = data.find(b"\n\n")
        message = data[header_end + 2 : split] if header_end >= 0 else b""
        tagger = target.tagger
        return TagRecord(
            name=tag_name,
            target=commit,
            annotated=True,
            message=message.decode("utf-8", "replace"),
            tagger_time=None if tagger is None else int(tagger.time),
            signed=signed,
            object_name=str(target.name),
        )

    def staged_blob(self, path: str, *, index_file: Path | None = None) -> bytes | None:
        """Return the content staged for ``path``, or None where the index has no such file.

        ``index_file`` replaces ``.git/index``: git points hooks at a temporary index
        through ``GIT_INDEX_FILE`` during ``git commit -a`` and ``git commit PATH``.
        """
        index = self._repo.index if index_file is None else pygit2.Index(str(index_file))
        if index_file is None:
            index.read()
        try:
            entry = index[path]
        except KeyError:
            return None
        return self.read_blob(str(entry.id))

    def merge_base(self, first: str, second: str) -> str | None:
        """Return the best common ancestor of two commits, or None where they share none."""
        found = self._repo.merge_base(pygit2.Oid(hex=first), pygit2.Oid(hex=second))
        return None if found is None else str(found)

    def default_branch(self) -> tuple[str, str] | None:
        """Return the name and commit of the default branch, or None where none is found.

        The remote's ``origin/HEAD`` decides where a clone has it; otherwise a local
        ``main`` or ``master`` branch is taken, in that order.
        """
        remote_head = self._repo.references.get("refs/remotes/origin/HEAD")
        candidates = [] if remote_head is None else [remote_head.resolve().name]
        candidates += ["refs/heads/main", "refs/heads/master"]
        for name in candidates:
            ref = self._repo.references.get(name)
            if ref is not None:
                commit = self._repo[ref.resolve().target].peel(pygit2.Commit)
                return name.removeprefix("refs/heads/").removeprefix("refs/remotes/"), str(
                    commit.id
                )
        return None

    @staticmethod
    def is_valid_tag_name(tag_name: str) -> bool:
        return bool(pygit2.reference_is_valid_name(f"refs/tags/{tag_name}"))

    @property
    def hooks_dir(self) -> Path:
        """The folder git runs hooks from: ``core.hooksPath`` or ``.git/hooks``."""
        configured = self.config_value("core.hookspath")
        if configured is None:
            return self.git_dir / "hooks"
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.workdir / path

    # Writing objects -----------------------------------------------------------

    def write_blob(self, data: bytes) -> str:
        return str(self._repo.create_blob(data))

    @staticmethod
    def hash_blob(data: bytes) -> str:
        """Return the id that ``data`` has as a blob, without writing it."""
        return str(pygit2.hash(data))

    def tree_with_file(self, commit: str | None, path: str, blob_id: str) -> str:
        """Return a tree equal to ``commit``'s with only ``path`` set to ``blob_id``."""
        base = None if commit is None else self._repo[commit].peel(pygit2.Tree)
        return str(self._replace_in_tree(base, path.split("/"), pygit2.Oid(hex=blob_id)))

    def tree_with_changes(self, commit: str | None, changes: dict[str, str | None]) -> str:
        """Return ``commit``'s tree with each path set to a blob id, or removed for None."""
        tree = None if commit is None else self._repo[commit].peel(pygit2.Tree)
        tree_id: pygit2.Oid | None = None if tree is None else tree.id
        for path, blob_id in sorted(changes.items()):
            current = None if tree_id is None else self._repo[tree_id].peel(pygit2.Tree)
            oid = None if blob_id is None else pygit2.Oid(hex=blob_id)
            tree_id = self._change_in_tree(current, path.split("/"), oid)
        if tree_id is None:
            tree_id = self._repo.TreeBuilder().write()
        return str(tree_id)

    def _change_in_tree(
        self, tree: pygit2.Tree | None, parts: list[str], blob_id: pygit2.Oid | None
    ) -> pygit2.Oid | None:
        builder = self._repo.TreeBuilder(tree) if tree is not None else self._repo.TreeBuilder()
        head, rest = parts[0], parts[1:]
        child: pygit2.Oid | None = blob_id
        if rest:
            subtree = None
            if tree is not None and head in tree and tree[head].type == ObjectType.TREE:
                subtree = self._repo[tree[head].id].peel(pygit2.Tree)
            child = self._change_in_tree(subtree, rest, blob_id)
        if child is None:
            if builder.get(head) is not None:
                builder.remove(head)
        else:
            builder.insert(head, child, _FILE_MODE if not rest else pygit2.GIT_FILEMODE_TREE)
        if len(builder) == 0:
            return None
        return builder.write()

    def _replace_in_tree(
        self, tree: pygit2.Tree | None, parts: list[str], blob_id: pygit2.Oid
    ) -> pygit2.Oid:
        builder = self._repo.TreeBuilder(tree) if tree is not None else self._repo.TreeBuilder()
        head, rest = parts[0], parts[1:]
        if not rest:
            builder.insert(head, blob_id, _FILE_MODE)
            return builder.write()
        subtree = None
        if tree is not None and head in tree:
            existing = self._repo[tree[head].id]
            if isinstance(existing, pygit2.Tree):
                subtree = existing
        child = self._replace_in_tree(subtree, rest, blob_id)
        builder.insert(head, child, pygit2.GIT_FILEMODE_TREE)
        return builder.write()

    def commit_payload(
        self, *, tree: str, parents: list[str], author: Identity, message: str
    ) -> str:
        """Return the raw commit text that a signature covers."""
        signature = author.to_pygit2()
        return str(
            self._repo.create_commit_string(
                signature,
                signature,
                message,
                pygit2.Oid(hex=tree),
                [pygit2.Oid(hex=parent) for parent in parents],
            )
        )

    def write_commit(self, payload: str, signature: str | None) -> str:
        """Write a commit object, with a ``gpgsig`` header when ``signature`` is given."""
        if signature is None:
            return str(self._repo.odb.write(ObjectType.COMMIT, payload.encode("utf-8")))
        return str(self._repo.create_commit_with_signature(payload, signature))

    @staticmethod
    def tag_payload(*, target: str, tag_name: str, tagger: Identity, message: str) -> str:
        """Return the raw annotated-tag text that a signature covers."""
        return (
            f"object {target}\ntype commit\ntag {tag_name}\ntagger {tagger.to_git()}\n\n{message}"
        )

    def write_tag(self, payload: str, signature: str | None) -> str:
        """Write an annotated tag object; git appends a tag's signature to its message."""
        data = payload if signature is None else payload + signature
        return str(self._repo.odb.write(ObjectType.TAG, data.encode("utf-8")))

    # Moving references -----------------------------------------------------------

    def advance_branch_and_tag(
        self,
        *,
        branch: str,
        expected: str | None,
        commit: str,
        tag_name: str,
        tag_object: str,
        reflog_message: str,
    ) -> None:
        """Move ``branch`` from ``expected`` to ``commit`` and create the tag, or do nothing.

        Both references are locked first, so no other writer can move them between
        the check and the update.

        Raises:
            GitError: the branch moved since it was read, or the tag already exists.
        """
        tag_ref = f"refs/tags/{tag_name}"
        try:
            with self._repo.transaction() as transaction:
                transaction.lock_ref(branch)
                transaction.lock_ref(tag_ref)
                self._require_branch_at(branch, expected, moment="during the publish")
                if tag_ref in self._repo.references:
                    raise GitError(
                        f"tag '{tag_name}' already exists",
                        hint=f"delete it with 'git tag -d {tag_name}' if nothing published it",
                    )
                transaction.set_target(branch, commit, message=reflog_message)
                transaction.set_target(tag_ref, tag_object, message=reflog_message)
        except pygit2.GitError as exc:
            raise GitError(
                f"could not update {branch} and tag '{tag_name}': {exc}",
                hint="another git process may hold a lock; run the command again",
            ) from exc

    def _require_branch_at(self, branch: str, expected: str | None, *, moment: str) -> None:
        """Raise GitError unless ``branch`` points at ``expected``.

        Call it with the branch locked, so the tip cannot move after the check.
        """
        current = self._repo.references.get(branch)
        current_id = None if current is None else str(current.target)
        if current_id != expected:
            raise GitError(
                f"branch {branch} moved {moment} (now at {current_id})",
                hint="run the command again",
            )

    def advance_branch(
        self, *, branch: str, expected: str | None, commit: str, reflog_message: str
    ) -> None:
        """Move ``branch`` from ``expected`` to ``commit``, or do nothing if it moved.

        Raises:
            GitError: the branch moved since it was read, or its lock is held.
        """
        try:
            with self._repo.transaction() as transaction:
                transaction.lock_ref(branch)
                self._require_branch_at(branch, expected, moment="while gitreg was committing")
                transaction.set_target(branch, commit, message=reflog_message)
        except pygit2.GitError as exc:
            raise GitError(
                f"could not update {branch}: {exc}",
                hint="another git process may hold a lock; run the command again",
            ) from exc

    def branch_target(self, branch: str) -> str | None:
        """Return the commit ``branch`` points at, or None where it does not exist."""
        ref = self._repo.references.get(branch)
        return None if ref is None else str(ref.target)

    def contains(self, descendant: str, ancestor: str) -> bool:
        """Return whether ``ancestor`` is ``descendant`` or one of its ancestors."""
        if descendant == ancestor:
            return True
        return bool(self._repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor)))

    def tag_object_id(self, tag_name: str) -> str | None:
        """Return the object the tag reference points at (the tag object, for annotated tags)."""
        ref = self._repo.references.get(f"refs/tags/{tag_name}")
        return None if ref is None else str(ref.target)

    def create_tag_ref(self, tag_name: str, tag_object: str, *, reflog_message: str) -> None:
        """Point a new ``refs/tags/<tag_name>`` at an existing tag object."""
        ref = f"refs/tags/{tag_name}"
        with self._repo.transaction() as transaction:
            transaction.lock_ref(ref)
            transaction.set_target(ref, tag_object, message=reflog_message)

    def delete_tag_ref(self, tag_name: str) -> None:
        self._repo.references.delete(f"refs/tags/{tag_name}")

    def create_tag(self, tag_name: str, tag_object: str) -> None:
        """Point a new ``refs/tags/<tag_name>`` at a tag object.

        Raises:
            GitError: the tag already exists.
        """
        try:
            self._repo.references.create(f"refs/tags/{tag_name}", pygit2.Oid(hex=tag_object))
        except (ValueError, pygit2.AlreadyExistsError) as exc:
            raise GitError(
                f"tag '{tag_name}' already exists",
                hint="pick another tag name; published tags are never moved",
            ) from exc

    # Work tree and index -----------------------------------------------------------

    def write_worktree_file(self, path: str, data: bytes) -> None:
        """Replace a work-tree file atomically and stage exactly that path."""
        target = self.workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)
        with self._index_update(path) as index:
            index.add(path)

    def remove_worktree_file(self, path: str) -> None:
        """Delete a work-tree file, if present, and remove exactly that path from the index."""
        (self.workdir / path).unlink(missing_ok=True)
        with self._index_update(path) as index:
            if path in index:
                index.remove(path)

    @contextlib.contextmanager
    def _index_update(self, path: str) -> Iterator[pygit2.Index]:
        """Read the index, let the block change it, and write it back.

        Raises:
            GitError: git's ``index.lock`` is held, or the index cannot be written.
        """
        index = self._repo.index
        try:
            index.read()
            yield index
            index.write()
        except pygit2.GitError as exc:
            raise GitError(
                f"could not update the git index for {path}: {exc}",
                hint="another git process may be running; if none is, "
                f"delete {self.git_dir / 'index.lock'}",
            ) from exc

    def index_is_locked(self) -> bool:
        """Return whether a git process (running, or dead without cleanup) holds index.lock."""
        return (self.git_dir / "index.lock").exists()

    def restore_path(self, path: str, blob_id: str | None) -> None:
        """Make the work tree and the index hold ``blob_id`` at ``path``, or drop the path."""
        if blob_id is None:
            self.remove_worktree_file(path)
        else:
            self.write_worktree_file(path, self.read_blob(blob_id))

    def index_blob_id(self, path: str) -> str | None:
        """Return the blob id staged at ``path``, or None where the index has no such path."""
        index = self._repo.index
        index.read()
        try:
            return str(index[path].id)
        except KeyError:
            return None

    def worktree_blob_id(self, path: str) -> str | None:
        """Return the blob id the work-tree file would get from ``git add``, or None if absent."""
        if not (self.workdir / path).is_file():
            return None
        return str(self._repo.hashfile(path))

    def unmarked_text_paths(self, paths: list[str]) -> list[str]:
        """Return the paths that no ``-text`` or ``binary`` attribute keeps byte-exact."""
        return [path for path in paths if self._repo.get_attr(path, "text") is not False]


def _path_ids(tree: pygit2.Tree, paths: tuple[str, ...]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for path in paths:
        try:
            found[path] = str(tree[path].id)
        except KeyError:
            found[path] = None
    return found


# Markers that start a signature inside a tag, as listed in git's gpg-interface.c (2.39).
_SIGNATURE_MARKERS = (
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN PGP MESSAGE-----",
    b"-----BEGIN SSH SIGNATURE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
)


def signature_start(data: bytes) -> int:
    """Return where a tag's appended signature starts: the last line that opens one.

    Returns ``len(data)`` when the tag is unsigned, following git's parse_signed_buffer.
    """
    match = len(data)
    offset = 0
    while offset < len(data):
        if data.startswith(_SIGNATURE_MARKERS, offset):
            match = offset
        newline = data.find(b"\n", offset)
        offset = len(data) if newline < 0 else newline + 1
    return match


# Temporary files of an interrupted atomic write carry this marker, so they can be found.
TEMPORARY_MARKER = ".gitreg-tmp-"


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target`` and rename it into place."""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}{TEMPORARY_MARKER}", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_temporaries(target: Path) -> list[Path]:
    """Delete what interrupted atomic writes of ``target`` left beside it; return those paths."""
    if not target.parent.is_dir():
        return []
    removed = sorted(target.parent.glob(f".{target.name}{TEMPORARY_MARKER}*"))
    for leftover in removed:
        leftover.unlink(missing_ok=True)
    return removed
