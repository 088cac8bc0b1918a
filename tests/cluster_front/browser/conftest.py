"""The browser suite's Chromium and page fixtures, for the cluster's browser test (package scope:
Playwright's sync loop must not outlive this package, or later asyncio tests break)."""

from tests.browser.conftest import chromium, open_page  # noqa: F401
