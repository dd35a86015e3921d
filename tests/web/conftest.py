"""Browser fixtures for the web shell's tests (see ``tests/browser.py``)."""

from tests.browser import browser, demo_server  # noqa: F401
