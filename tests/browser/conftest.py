"""Fixtures for the browser suite: a real `pesabox serve` process on loopback with a seeded
SQLite database, and Playwright driving Debian's Chromium (/usr/bin/chromium) against it.

`make test` installs Chromium (`make browser`); without it these tests fail rather than
skip, so a CI run can never pass without having driven a browser. Screenshots go to
test-artifacts/screenshots/, one or more per test, named after the test.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.databases import fresh_database_url
from tests.e2e import PesaboxServer, Sandbox, forward_to, prepare_sandbox
from tests.e2e.receiver import CallbackReceiver

CHROMIUM = "/usr/bin/chromium"
# The flags CI's Chromium needs: no sandbox as root, no GPU, and none of the background
# traffic this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 360, "height": 780}
# Long enough for a page to react to a server-sent event on a loaded CI machine.
EXPECT_TIMEOUT_MS = 10_000

Screenshot = Callable[[Page, str], Path]
# Assertions wait as long as actions do (Playwright's own default for `expect` is 5 s).
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def ui_receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def ui_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with fresh_database_url("sqlite", str(tmp_path)) as url:
        yield prepare_sandbox(url, app_name="browser")


@pytest.fixture
def ui_server(
    ui_sandbox: Sandbox, ui_receiver: CallbackReceiver, tmp_path: Path
) -> Iterator[PesaboxServer]:
    """A sandbox server whose https://shop.example callbacks reach `ui_receiver`."""
    with running_server(ui_sandbox, tmp_path, forward_to(ui_receiver.base_url)) as server:
        yield server


@contextmanager
def running_server(
    sandbox: Sandbox, tmp_path: Path, env: dict[str, str]
) -> Iterator[PesaboxServer]:
    """`pesabox serve` on the sandbox with `env`; its logs go to stderr when it stops, so a
    failing test shows what the server said."""
    log_dir = tmp_path / "server"
    log_dir.mkdir()
    server = PesaboxServer(sandbox, log_dir, env)
    server.start()
    try:
        yield server
    finally:
        server.close()
        for path in server.log_paths():
            sys.stderr.write(f"--- {path} ---\n{path.read_text(errors='replace')[-6000:]}\n")


def _context(browser: Browser, server: PesaboxServer, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(base_url=server.base_url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, ui_server: PesaboxServer) -> Iterator[Page]:
    """A fresh browser context (no cookies) at desktop width."""
    context = _context(browser, ui_server, WIDE)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def new_page(browser: Browser, ui_server: PesaboxServer) -> Iterator[Callable[..., Page]]:
    """More pages, each in its own context (its own cookies), at a chosen width."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] | None = None) -> Page:
        context = _context(browser, ui_server, viewport or WIDE)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshot:
    """Save a full-page PNG as test-artifacts/screenshots/<test>-<label>.png."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(target: Page, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{test_name}-{label}.png"
        target.screenshot(path=str(path), full_page=True)
        return path

    return take
