"""Browser fixtures for the deployment walk (see ``tests/browser.py``)."""

from tests.browser import browser  # noqa: F401
