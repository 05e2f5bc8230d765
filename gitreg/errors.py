"""The exceptions the core raises.

Every user-facing failure is a ``GitregError``: a one-line message that names the
failing value, plus a hint that tells what to do next. The CLI maps the classes to
exit codes in one place:

- ``UsageError`` (exit 2): the command line or an input value is malformed.
- ``RejectedError`` (exit 1): the request is well formed but the registry refuses it.
- ``CheckFailedError`` (exit 1): a verification found problems.
- ``GitError``, ``SigningError``, ``ManifestError`` (exit 1): the repository, the
  signing program or a manifest is not in a state gitreg can work with.
"""

from __future__ import annotations

import unicodedata


class GitregError(Exception):
    """Base class of every error gitreg reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.message} ({self.hint})" if self.hint else self.message
        return _escape_controls(text)


def _escape_controls(text: str) -> str:
    """Escape control characters, so that a value with a newline cannot split the message."""
    if all(unicodedata.category(char) != "Cc" for char in text):
        return text
    return "".join(
        repr(char)[1:-1] if unicodedata.category(char) == "Cc" else char for char in text
    )


class UsageError(GitregError):
    """An option or input value is invalid."""

    exit_code = 2


class RejectedError(GitregError):
    """A valid request that the registry rejects, such as a duplicate version."""


class CheckFailedError(GitregError):
    """A verification that found at least one problem."""


class ManifestError(GitregError):
    """A manifest that cannot be read: bad JSON, wrong shape or too large."""


class GitError(GitregError):
    """The repository is missing, in an unusable state, or a git operation failed."""


class SigningError(GitregError):
    """Signing was requested and could not be done."""


class LockTimeoutError(GitregError):
    """Another gitreg process held the registry lock for longer than the timeout."""
