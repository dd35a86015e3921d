"""Every icon a page names is in the vendored sprite, with its licence beside it."""

from __future__ import annotations

import re
from pathlib import Path

from citygrowth.governance.icons import FALLBACK, category_icon, sprite_names
from citygrowth.governance.taxonomy import default_categories

LUCIDE = Path(__file__).parents[2] / "src" / "citygrowth" / "web" / "static" / "vendor" / "lucide"


def test_sprite_holds_every_icon_and_the_licence() -> None:
    ids = set(re.findall(r'<symbol id="([a-z0-9-]+)"', (LUCIDE / "icons.svg").read_text()))
    assert set(sprite_names()) <= ids
    assert "ISC License" in (LUCIDE / "LICENSE").read_text()


def test_each_default_category_has_its_own_or_its_major_icon() -> None:
    for spec in default_categories():
        assert category_icon(spec.code, spec.parent_code) != FALLBACK, spec.code
    assert category_icon("E0999", "E09") == FALLBACK  # a plugin's category without one
    assert category_icon("E0199", "E01") == category_icon("E01")
