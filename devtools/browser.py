"""Debian's Chromium driven by Playwright (its Python API; Playwright's own browsers are never
downloaded), and axe-core (tests/browser/node_modules, ``npm ci``) to scan a page: for the
browser tests (tests/browser) and ``scripts/screenshots.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CCT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parents[1] / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# What the scan checks: WCAG 2.0 and 2.1, levels A and AA (RGAA 4 follows them), and axe's best
# practices (landmarks, one main, headings in order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def missing() -> str | None:
    """Why the browser tests cannot run here, if they cannot."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright (Python) not installed: run `bash scripts/test.sh`"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} not found: `apt-get install chromium` (scripts/bootstrap.sh)"
    if not AXE.exists():
        return "axe-core not installed: `npm ci` in tests/browser (scripts/bootstrap.sh)"
    return None


@asynccontextmanager
async def opened(browser: Any, viewport: dict[str, int], *, javascript: bool = False,
                 bypass_csp: bool = False) -> AsyncIterator[Any]:
    """A page of a context of its own in ``browser``: in French, ``viewport`` wide, without
    JavaScript (as the pages are meant to be read) unless ``javascript``; ``bypass_csp`` for a
    scan whose script is injected inline (``axe_violations``). The context is closed after."""
    context = await browser.new_context(viewport=viewport, locale="fr-FR",
                                        java_script_enabled=javascript, bypass_csp=bypass_csp)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (a ``playwright.async_api.Browser``)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def axe_violations(page: Any) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on ``page`` (its
    context must bypass the CSP: the script is injected inline)."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
