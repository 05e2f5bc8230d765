"""SemVer 2.0.0 parsing and precedence, on top of the ``semver`` package."""

from __future__ import annotations

import re
from functools import lru_cache

import semver

from gitreg.errors import UsageError

# A precedence key sorts like SemVer precedence: a release above its pre-releases,
# numeric pre-release identifiers below alphanumeric ones and compared as numbers.
PrereleasePart = tuple[int, int, str]
PrecedenceKey = tuple[int, int, int, int, tuple[PrereleasePart, ...]]

_LEADING_ZERO = re.compile(r"(^|[.-])0\d")


def _explain(text: str) -> str:
    """Return why ``text`` is not SemVer and how to write it."""
    if not text:
        return "empty; pass a version such as 1.0.0"
    if text[0] in "vV" and semver.Version.is_valid(text[1:]):
        return f"drop the leading '{text[0]}': pass {text[1:]}"
    core = re.split(r"[-+]", text, maxsplit=1)[0]
    if re.fullmatch(r"\d+(\.\d+)?", core):
        return "it needs all three parts MAJOR.MINOR.PATCH, such as 1.2.0"
    if _LEADING_ZERO.search(text.split("+", 1)[0]):
        return "leading zero; write 1.2.3 instead of 01.2.3"
    return "expected MAJOR.MINOR.PATCH with optional -PRERELEASE and +BUILD, such as 1.0.0-rc.1"


def parse_version(text: str) -> semver.Version:
    """Parse a SemVer 2.0.0 version.

    Raises:
        UsageError: ``text`` is not a valid SemVer 2.0.0 version.
    """
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"version '{text}' is not valid SemVer 2.0.0", hint=_explain(text)
        ) from exc


@lru_cache(maxsize=65536)
def precedence_key(text: str) -> PrecedenceKey:
    """Return a sort key that orders versions by SemVer precedence.

    Build metadata is ignored, so ``1.0.0+a`` and ``1.0.0+b`` get the same key.

    Raises:
        UsageError: ``text`` is not a valid SemVer 2.0.0 version.
    """
    version = parse_version(text)
    if version.prerelease is None:
        return (version.major, version.minor, version.patch, 1, ())
    parts: list[PrereleasePart] = []
    for identifier in version.prerelease.split("."):
        if identifier.isdigit():
            parts.append((0, int(identifier), ""))
        else:
            parts.append((1, 0, identifier))
    return (version.major, version.minor, version.patch, 0, tuple(parts))
