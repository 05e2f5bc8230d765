"""Artifact paths: resolved inside the repository before any file is read."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from gitreg.errors import RejectedError


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def repository_relative(user_path: str, *, workdir: Path, cwd: Path) -> str:
    """Return ``user_path`` as a repository-relative POSIX path.

    Relative paths are taken from ``cwd``; absolute paths inside the work tree
    become relative. The path must not leave the work tree, lexically or through
    a symlink, and must not point into the ``.git`` folder.

    Raises:
        RejectedError: the path leaves the repository or points into ``.git``.
    """
    root = os.path.normpath(os.path.abspath(workdir))
    lexical = os.path.normpath(os.path.join(os.path.abspath(cwd), user_path))
    if not _inside(lexical, root) or lexical == root:
        raise RejectedError(
            f"artifact path '{user_path}' is outside the repository {root}",
            hint="copy the artifact into the repository and pass its path there",
        )
    relative = PurePosixPath(Path(os.path.relpath(lexical, root)).as_posix())
    if relative.parts[0] == ".git":
        raise RejectedError(
            f"artifact path '{user_path}' points into the .git folder",
            hint="pass a file in the work tree",
        )
    check_stays_inside(str(relative), workdir=workdir)
    return str(relative)


def check_stays_inside(relative: str, *, workdir: Path) -> Path:
    """Return the absolute path of ``relative`` after checking that its symlinks stay inside.

    Raises:
        RejectedError: a symlink on the path leads outside the work tree.
    """
    root = os.path.realpath(workdir)
    real = os.path.realpath(os.path.join(root, relative))
    if not _inside(real, root):
        raise RejectedError(
            f"artifact path '{relative}' is a symlink that leads outside the repository",
            hint="store the artifact itself in the repository instead of a link to it",
        )
    return Path(real)


def check_regular_file(relative: str, *, workdir: Path) -> Path:
    """Return the absolute path of an artifact that is a regular file inside the repository.

    Raises:
        RejectedError: the file is missing, escapes the repository, or is not a
            regular file (a directory, FIFO or device).
    """
    real = check_stays_inside(relative, workdir=workdir)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        raise RejectedError(
            f"artifact not found: '{relative}'",
            hint="check the path; relative paths are taken from the current directory",
        ) from None
    if not stat.S_ISREG(mode):
        raise RejectedError(
            f"artifact '{relative}' is not a regular file",
            hint="pass a file; directories, FIFOs and devices cannot be hashed",
        )
    return real


def artifact_exists(relative: str, *, workdir: Path) -> bool:
    """Return whether an artifact is present, without opening it.

    A missing artifact (a file not yet pulled from git LFS, say) is not an error here.

    Raises:
        RejectedError: the path leads outside the repository through a symlink, or
            names something other than a regular file.
    """
    real = check_stays_inside(relative, workdir=workdir)
    if not os.path.lexists(real):
        return False
    check_regular_file(relative, workdir=workdir)
    return True
