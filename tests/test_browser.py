"""The review and progress pages in real headless Chromium: rendered, clicked, listened to, and kept offline."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from cdp import Browser, png_pixels
from conftest import copy_session, inject, run_cli

PAYLOAD = "<script>window.__injected = 1</script>"


@pytest.fixture
def browser(tmp_path):
    with Browser(tmp_path / "profile") as b:  # a new, empty profile every time
        yield b


def _assert_nothing_left_the_page(browser: Browser, page_url: str) -> None:
    """The page itself is the only file read; everything else is a data URI inside it (the player's icons too)."""
    urls = [e["params"]["request"]["url"] for e in browser.events_named("Network.requestWillBeSent")]
    assert urls.count(page_url) == 1
    assert all(u == page_url or u.startswith("data:") for u in urls), [u[:80] for u in urls]
    assert not browser.events_named("Network.webSocketCreated")
    failed = browser.events_named("Network.loadingFailed")
    assert not failed, failed


def _assert_not_blank(browser: Browser, colours: list[str]) -> None:
    """A screenshot with content: many colours, much that is not the background, and the given colours."""
    browser.evaluate("window.scrollTo(0, 0)")
    shot = browser.page("Page.captureScreenshot", format="png", clip={"x": 0, "y": 0, "width": 1200,
                        "height": 900, "scale": 0.5})  # fmt: skip
    pixels = png_pixels(base64.b64decode(shot["data"])).reshape(-1, 3).astype(int)
    assert pixels.shape[0] == 600 * 450
    background = np.bincount((pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]).argmax()
    share = np.mean(((pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]) != background)
    assert share > 0.1, f"only {share:.0%} of the screenshot differs from the background"
    assert len(np.unique(pixels, axis=0)) > 50
    for colour in colours:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=1) < 24).sum() > 50, f"{colour} is not on the screen"
    full = browser.screenshot()
    assert full[:8] == b"\x89PNG\r\n\x1a\n" and len(full) > 50_000


def test_review_page_in_chromium(recorded_session, tmp_path, browser):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    inject(folder, PAYLOAD)
    assert run_cli("review", "--sessions", str(root)).code == 0
    page = folder / "report.html"
    browser.open(page.as_uri())

    # Five sections in the timeline, in order, and the transcript coloured by section.
    rows = browser.evaluate("[...document.querySelectorAll('#timeline g.row')].map(g => g.dataset.section)")
    assert rows == ["situation", "task", "action", "result", "reflection"]
    blocks = browser.evaluate("[...document.querySelectorAll('#transcript .block')].map(b => b.className)")
    assert blocks and all(b.startswith("block s-") for b in blocks)
    colour = browser.evaluate("getComputedStyle(document.querySelector('.s-action h3')).color")
    assert colour == "rgb(89, 161, 79)"

    # The recording plays from the sentence clicked.
    browser.wait_for("document.getElementById('answer').readyState >= 1")
    duration = browser.evaluate("document.getElementById('answer').duration")
    assert abs(duration - json.loads((folder / "report.json").read_text())["duration_s"]) < 0.1
    starts = browser.evaluate("[...document.querySelectorAll('.sentence')].map(s => parseFloat(s.dataset.start))")
    assert len(starts) >= 5 and starts == sorted(starts)
    for start in (starts[3], starts[1], starts[-1]):
        browser.click(f'.sentence[data-start="{start:.2f}"]')
        now = browser.evaluate("document.getElementById('answer').currentTime")
        assert start - 0.01 <= now <= start + 0.5, (start, now)
    browser.wait_for("!document.getElementById('answer').paused || document.getElementById('answer').ended")
    # The sentence being heard is marked.
    assert browser.wait_for("document.querySelector('.sentence.now') !== null")

    # A spoken "<script>" is text on the page, and never runs.
    assert browser.evaluate("window.__injected === undefined")
    assert browser.evaluate("document.scripts.length") == 1
    assert browser.evaluate("document.images.length") == 0
    body = browser.evaluate("document.body.innerText")
    assert body.count(PAYLOAD) >= 5
    marked = browser.evaluate("document.querySelector('mark').title")
    assert "Coaching:" in marked

    _assert_nothing_left_the_page(browser, page.as_uri())
    _assert_not_blank(browser, ["#4e79a7", "#59a14f"])


def test_progress_page_in_chromium(recorded_session, tmp_path, browser):
    root = tmp_path / "sessions"
    for day in ("2026-03-01", "2026-03-08"):
        copy_session(recorded_session, root, f"{day}_090000-mock-dive-deep-webhook", f"{day}T09:00:00+0000")
    assert run_cli("review", "--sessions", str(root)).code == 0
    run = run_cli("history", "--sessions", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    page = root / "progress.html"
    browser.open(page.as_uri())
    charts = browser.evaluate("[...document.querySelectorAll('#timing svg')].map(s => s.getAttribute('aria-label'))")
    assert charts == [f"{s}: seconds per session" for s in ("situation", "task", "action", "result", "reflection")]
    assert browser.evaluate("document.querySelectorAll('#timing circle.time').length") == 2 * 4
    assert browser.evaluate("document.querySelectorAll('#sessions tbody tr').length") == 2
    # The latest session's row links to its review page; following it stays on this disk.
    assert browser.evaluate("document.querySelectorAll('#sessions a').length") == 1
    _assert_nothing_left_the_page(browser, page.as_uri())
    _assert_not_blank(browser, [])
    browser.click("#sessions a")
    browser.wait_for("location.href.endsWith('report.html') && document.readyState === 'complete'")
    assert browser.evaluate("document.querySelectorAll('#timeline g.row').length") == 5
