"""Months outside the range cases can have are refused with a clear message, not a crash."""

from __future__ import annotations

import pytest

from citygrowth.errors import ValidationFailed
from citygrowth.governance.evaluation import parse_month


def test_months_are_canonical_and_bounded() -> None:
    assert parse_month(" 2026-10 ") == "2026-10"
    for bad in ("0362-11", "2026-13", "26-10", "2201-01"):
        with pytest.raises(ValidationFailed) as info:
            parse_month(bad)
        assert bad in info.value.render_message("en")
