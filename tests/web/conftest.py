"""Fixtures of the web shell's tests: browser fixtures (see ``tests/browser.py``) and a small
district with data behind every page (``tests/web/crawl.py``)."""

from pathlib import Path

import pytest

from citygrowth.settings import Settings
from tests.browser import browser, demo_server  # noqa: F401
from tests.web.crawl import build_district


@pytest.fixture(scope="session")
def district(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Settings:
    """A district with data in every domain, built once per test process; tests only read it."""
    return build_district(tmp_path_factory.mktemp("district"), sqlite_template)
