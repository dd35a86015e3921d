"""Area codes: format, level by length, nesting by prefix."""

from __future__ import annotations

import pytest

from citygrowth.areas.codes import (
    ancestor_codes,
    check_code,
    check_level,
    code_at_level,
    code_problem,
    level_problem,
)
from citygrowth.areas.models import level_of, parent_code
from citygrowth.errors import ValidationFailed


@pytest.mark.parametrize(("code", "level"), [
    ("370203", "district"), ("370203011", "street"), ("370203011001", "community"),
    ("370203011001002", "grid"),
])
def test_well_formed_codes_name_their_level(code: str, level: str) -> None:
    assert code_problem(code) is None
    assert level_of(code) == level
    assert check_code(code) == code


@pytest.mark.parametrize(("code", "fragment"), [
    ("37020", "has 5"), ("3702030111", "has 10"), ("37o203", "only digits"),
    ("", "only digits"), ("370203000", "000"), ("370203011000", "000"), ("３７０２０３", "digits"),
])
def test_malformed_codes_are_explained(code: str, fragment: str) -> None:
    problem = code_problem(code)
    assert problem is not None and problem.field == "code"
    assert fragment in problem.render("en")["message"]
    with pytest.raises(ValidationFailed) as info:
        check_code(code)
    assert info.value.problems[0].value == code


def test_parents_and_ancestors_follow_the_prefix() -> None:
    assert parent_code("370203011001002") == "370203011001"
    assert parent_code("370203") is None
    assert ancestor_codes("370203011001002") == ["370203011001", "370203011", "370203"]
    assert code_at_level("370203011001002", "street") == "370203011"
    assert code_at_level("370203011", "grid") is None


def test_declared_level_must_match_the_code_length() -> None:
    assert level_problem("370203011", "street") is None
    problem = level_problem("370203011", "community")
    assert problem is not None
    assert problem.render("en")["message"] == (
        "Level 'community' does not match code '370203011', which is a street.")
    assert level_problem("370203011", "planet") is not None
    with pytest.raises(ValidationFailed):
        check_level("planet")
    assert check_level(None) is None
