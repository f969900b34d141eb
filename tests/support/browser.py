"""Headless Chromium (Debian's package) driven by Playwright, for the HTML reports' tests.

`make test` skips these tests where the browser or the driver is missing; CI
(`.ci/run`) installs both, so they are never skipped there.
"""
import shutil

import pytest

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium, or a skip naming what to install."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs the Python package playwright (pip install -r requirements-test.txt)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("needs Debian's chromium package (apt-get install -y chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, headless=True,
                                          args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def open_page(browser, path):
    """Opens `path` from file://; returns (page, errors) where errors collects the console's
    errors, the page's uncaught exceptions and every request that failed."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, errors
