"""SemVer 2.0.0 parsing and precedence, and 'latest' as fetch sees it."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import semver
from hypothesis import given, settings
from hypothesis import strategies as st

from gitreg.errors import UsageError
from gitreg.manifest import load_schema
from gitreg.versions import parse_version, precedence_key
from tests.conftest import Cli
from tests.helpers import commit, publish_model

# Ascending SemVer precedence, with the examples of semver.org section 11 included.
ORDERED = [
    "0.9.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0-rc.2",
    "1.0.0-rc.11",
    "1.0.0",
    "1.9.0",
    "1.10.0",
    "2.0.0-0",
    "2.0.0-9",
    "2.0.0-10",
    "2.0.0-a",
    "2.0.0",
]


def test_precedence_order() -> None:
    shuffled = ORDERED.copy()
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=precedence_key) == ORDERED


def test_minor_compares_numerically() -> None:
    assert precedence_key("1.10.0") > precedence_key("1.9.0")


def test_release_above_prerelease() -> None:
    assert precedence_key("1.0.0") > precedence_key("1.0.0-rc.11")


def test_prerelease_numbers_numeric() -> None:
    assert precedence_key("1.0.0-rc.11") > precedence_key("1.0.0-rc.2")


def test_build_metadata_ignored() -> None:
    assert precedence_key("1.0.0+a") == precedence_key("1.0.0+b")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "empty"),
        ("v1.0.0", "drop the leading 'v'"),
        ("V1.0.0", "drop the leading 'V'"),
        ("1.2", "MAJOR.MINOR.PATCH, such as 1.2.0"),
        ("1.2-rc.1", "MAJOR.MINOR.PATCH, such as 1.2.0"),
        ("01.2.3", "leading zero"),
        ("1.0.0-rc.01", "leading zero"),
        ("1.0.0+", "expected MAJOR.MINOR.PATCH"),
        ("1.0.0 ", "expected MAJOR.MINOR.PATCH"),
        ("1.0.0\n", "expected MAJOR.MINOR.PATCH"),
        ("latest", "expected MAJOR.MINOR.PATCH"),
    ],
)
def test_invalid_versions(text: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_version(text)
    assert caught.value.message == f"version '{text}' is not valid SemVer 2.0.0"
    assert hint in str(caught.value.hint)


def test_leading_zero_build_allowed() -> None:
    assert str(parse_version("1.0.0+001")) == "1.0.0+001"


def _fetch_version(cli: Cli, repo: Path, *extra: str) -> str:
    result = cli("fetch", "--name", "model", "--type", "model", *extra, cwd=repo)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()[0]


def test_fetch_latest_by_precedence(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    for version in ["1.9.0", "1.10.0", "1.10.0-rc.2", "1.0.0-rc.11"]:
        publish_model(cli, repo, version=version)
    assert _fetch_version(cli, repo) == "Model: model v1.10.0"


def test_fetch_latest_prerelease_only(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    for version in ["1.0.0-rc.2", "1.0.0-rc.11", "1.0.0-beta+build.9"]:
        publish_model(cli, repo, version=version)
    assert _fetch_version(cli, repo) == "Model: model v1.0.0-rc.11"


def test_fetch_build_metadata_version(cli: Cli, repo: Path) -> None:
    commit(repo, {"model.bin": b"weights"})
    publish_model(cli, repo, version="1.0.0+exp.sha.5114f85")
    publish_model(cli, repo, version="1.0.0-rc.1")
    assert _fetch_version(cli, repo) == "Model: model v1.0.0+exp.sha.5114f85"
    assert _fetch_version(cli, repo, "--version", "1.0.0") == "Model: model v1.0.0+exp.sha.5114f85"


_IDENTIFIER = st.from_regex(r"(0|[1-9][0-9]{0,2}|[0-9a-zA-Z-]{0,3}[a-zA-Z-][0-9a-zA-Z-]{0,3})",
                            fullmatch=True)
_VERSION = st.builds(
    lambda core, pre, build: ".".join(map(str, core))
    + (f"-{'.'.join(pre)}" if pre else "")
    + (f"+{'.'.join(build)}" if build else ""),
    st.tuples(*[st.integers(0, 12)] * 3),
    st.lists(_IDENTIFIER, max_size=3),
    st.lists(st.from_regex(r"[0-9a-zA-Z-]{1,4}", fullmatch=True), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(first=_VERSION, second=_VERSION)
def test_precedence_matches_semver(first: str, second: str) -> None:
    expected = semver.Version.parse(first).compare(second)
    ours = precedence_key(first), precedence_key(second)
    assert ((ours[0] > ours[1]) - (ours[0] < ours[1])) == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="0123456789.-+aZv", max_size=14))
def test_parse_agrees_with_schema(text: str) -> None:
    pattern = load_schema("model")["definitions"]["model"]["properties"]["version"]["pattern"]
    try:
        parse_version(text)
    except UsageError:
        accepted = False
    else:
        accepted = True
    assert accepted == (re.fullmatch(pattern.rstrip("$"), text) is not None)
