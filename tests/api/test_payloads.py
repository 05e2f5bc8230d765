"""The patterns in the OpenAPI document agree with the core's own checks."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gitreg.api.payloads import ENTRY_NAME_PATTERN, SEMVER_PATTERN, PublishModelBody
from gitreg.errors import UsageError
from gitreg.names import name_problem
from gitreg.versions import parse_version

NAME_ALPHABET = "abkloc.L_-09"


def _semver_valid(text: str) -> bool:
    try:
        parse_version(text)
    except UsageError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=12))
def test_name_pattern_matches_core(name: str) -> None:
    assert (re.match(ENTRY_NAME_PATTERN, name) is not None) == (name_problem(name) is None)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(SEMVER_PATTERN, fullmatch=True))
def test_semver_pattern_accepted_by_core(version: str) -> None:
    assert _semver_valid(version)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123.-+aZ", max_size=12))
def test_core_versions_match_pattern(text: str) -> None:
    if _semver_valid(text):
        assert re.match(SEMVER_PATTERN, text) is not None


def test_body_accepts_whole_float() -> None:
    body = {"name": "m", "version": "1.0.0", "artifacts": ["m.bin"], "cleanliness_score": 93.0}
    assert PublishModelBody.model_validate(body).cleanliness_score == 93


def test_body_rejects_lone_surrogate() -> None:
    body = {"name": "m", "version": "1.0.0", "artifacts": ["m.bin"], "notes": "\ud800"}
    with pytest.raises(ValidationError, match="lone surrogate at position 0"):
        PublishModelBody.model_validate(body)
