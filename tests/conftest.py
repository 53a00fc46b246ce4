"""Fixtures shared by the test modules."""

# The headless Chromium fixture (``browser``): tests/browser.py.
pytest_plugins = ["browser"]
