"""Names of entries and client slugs.

An entry name becomes a component of its git tag (``model/<name>@v<version>``), so
it must be a valid ref component (``git check-ref-format``) and must not contain the
``@`` that separates name from version. gitreg allows the portable subset: letters,
digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
"""

from __future__ import annotations

import re

from gitreg.errors import RejectedError, UsageError

MAX_NAME_LENGTH = 100
# Names that differ only in case ('Forecast', 'forecast') would have tag refs that are
# one file on case-insensitive file systems (macOS, Windows), so a publish may not add
# a case variant of an existing name (see check_case). Registries that already hold
# both keep working: new versions of either name are accepted.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NAME_FORBIDDEN_PATTERN = r"(\.\.|\.lock$|\.$)"
CLIENT_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"

_NAME = re.compile(NAME_PATTERN)
_NAME_FORBIDDEN = re.compile(NAME_FORBIDDEN_PATTERN)
_CLIENT = re.compile(CLIENT_PATTERN)


def name_problem(name: str) -> str | None:
    """Return what makes ``name`` invalid as an entry name, or None when it is valid."""
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} characters"
    # fullmatch, because '$' in re.match also matches before a final newline.
    if not _NAME.fullmatch(name):
        return "use letters, digits, '.', '_' and '-', starting with a letter or digit"
    if _NAME_FORBIDDEN.search(name):
        return "it must not contain '..' or end with '.' or '.lock'"
    return None


def check_name(name: str, *, default_from: str | None = None) -> str:
    """Return ``name`` if it is a valid entry name.

    ``default_from`` is the artifact path the name was derived from, so that the
    error can say to pass ``--name``.

    Raises:
        UsageError: the name is not valid.
    """
    problem = name_problem(name)
    if problem is None:
        return name
    if default_from is not None:
        raise UsageError(
            f"name '{name}' taken from the file name of '{default_from}' is not valid: {problem}",
            hint="pass a valid name with --name, such as --name forecast_v1",
        )
    raise UsageError(f"name '{name}' is not valid", hint=problem)


def check_client(client: str) -> str:
    """Return ``client`` if it is a valid client slug.

    Raises:
        UsageError: the slug is not valid.
    """
    if _CLIENT.fullmatch(client):
        return client
    raise UsageError(
        f"client '{client}' is not a valid slug",
        hint="use lowercase letters, digits, '.', '_' and '-', such as acme-corp",
    )


def check_case(name: str, existing: str | None, *, kind: str) -> None:
    """Reject ``name`` when ``existing``, a name already in the manifest, differs only in case.

    Raises:
        RejectedError: ``existing`` is not None.
    """
    if existing is None:
        return
    raise RejectedError(
        f"{kind} name '{name}' differs from the existing name '{existing}' only in case, "
        "and their tags would collide on case-insensitive file systems",
        hint=f"use the existing name instead (--name {existing})",
    )
