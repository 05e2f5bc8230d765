"""Names of entries and client slugs.

An entry name becomes a component of its git tag (``model/<name>@v<version>``), so
it must be a valid ref component (``git check-ref-format``) and must not contain the
``@`` that separates name from version. gitreg allows the portable subset: letters,
digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
"""

from __future__ import annotations

import re

from gitreg.errors import UsageError

MAX_NAME_LENGTH = 100
# NOTE: names that differ only in case ('Forecast', 'forecast') are both accepted, but
# their loose tag refs are one file on case-insensitive file systems (macOS, Windows),
# so the second publish there should be rejected as a stray tag (untested on such a
# system). Rejecting such pairs needs a rule for registries that already contain both.
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
