"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium), never a
downloaded browser. Without Chromium they are skipped, loudly, unless
TIMEBANK_REQUIRE_E2E=1 (as in CI), which turns the skip into a failure.

Chromium starts once per worker; each test gets new browser contexts, closed at its end.
The live server answers from another thread, so every browser test is ``concurrent``."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from timebank.extensions import db

CHROMIUM = Path(os.environ.get("TIMEBANK_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("TIMEBANK_REQUIRE_E2E") == "1"
SKIP_REASON = (
    f"browser tests need Debian's Chromium at {CHROMIUM}: "
    "run `sudo apt-get install -y chromium` (CI does, and makes these tests required)"
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.concurrent)


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        if REQUIRED:
            pytest.fail(SKIP_REASON)
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium):
    """The worker's Chromium; the contexts (and pages) a test opens are closed at its end."""
    before = set(chromium.contexts)
    yield chromium
    for context in chromium.contexts:
        if context not in before:
            context.close()


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yields its base URL."""
    db.session.commit()  # SQLite: release the write lock the test's session may hold
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)
