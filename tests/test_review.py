"""`review`: a past session's summary and its self-contained HTML page, made by the real program."""

from __future__ import annotations

import base64
import json
import re
import stat
from html import unescape

from conftest import assert_one_line_error, copy_session, inject, run_cli
from mock_interview.speech.audio import SAMPLE_RATE, load_audio

INJECTED = '<script>window.__injected = 1</script>"><img src=x onerror="window.__injected = 2">'


def _data_uris(html: str) -> list[tuple[str, bytes]]:
    return [(m, base64.b64decode(b)) for m, b in re.findall(r'src="data:([^;"]+)[^,"]*;base64,([^"]+)"', html)]


def test_review_writes_a_self_contained_page_for_the_latest_session(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    older = copy_session(recorded_session, root, "2026-01-01_090000-mock-dive-deep-webhook", "2026-01-01T09:00:00+0000")
    latest = copy_session(recorded_session, root)
    run = run_cli("review", "--sessions", str(root))
    assert run.code == 0, run.stderr
    assert f"Session {latest.name}" in run.stdout
    assert "STAR sections" in run.stdout and "Bar raiser thinks" in run.stdout
    page = latest / "report.html"
    assert f"Review page: {page}" in run.stdout.replace("\n", "")
    assert not (older / "report.html").exists()
    assert stat.S_IMODE(page.stat().st_mode) == 0o600

    html = page.read_text()
    # Nothing outside the file: every src and href is data or an anchor, and the policy forbids fetching.
    assert not re.search(r'(?:src|href)="(?!data:|#)', html)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert unescape(policy).startswith("default-src 'none'; script-src 'sha256-")
    report = json.loads((latest / "report.json").read_text())
    assert html.count('<g class="row"') == 5
    for section in ("situation", "task", "action", "result", "reflection"):
        assert f'data-section="{section}"' in html
    # The recording is inside the page, compressed, with the times of the original.
    uris = _data_uris(html)
    assert [m for m, _ in uris] == ["audio/ogg"] * 3  # the answer and the two follow-up answers
    answer_ogg = tmp_path / "answer.ogg"
    answer_ogg.write_bytes(uris[0][1])
    original = load_audio(latest / "01-answer.flac")
    assert abs(len(load_audio(answer_ogg)) - len(original)) / SAMPLE_RATE < 0.03
    assert len(uris[0][1]) < (latest / "01-answer.flac").stat().st_size / 2
    # Every sentence is a button that starts at its first word, and every flag is there with its coaching.
    starts = [float(s) for s in re.findall(r'class="sentence"[^>]*data-start="([\d.]+)"', html)]
    word_starts = {round(w["start"], 2) for w in report["transcript"]["words"]}
    assert len(starts) >= 5 and set(starts) <= word_starts and starts == sorted(starts)
    for flag in report["flags"]:
        assert flag["coaching"].replace("'", "&#x27;") in html
        assert re.search(rf'<mark class="\w+" data-flags="[^"]*\b{flag["id"]}\b', html), flag["id"]
    assert f"Bar raiser thinks: {report['verdict']['label']}" in html


def test_review_json_names_the_session_and_its_page(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    run = run_cli("review", folder.name[:15], "--sessions", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    data = run.json()
    assert data["session"]["id"] == folder.name and data["session"]["mode"] == "mock"
    assert data["page"] == str(folder / "report.html")
    assert data["report"] == json.loads((folder / "report.json").read_text())
    assert data["missing_audio"] == []
    by_path = run_cli("review", str(folder), "--sessions", str(root), "--format", "json")
    assert by_path.code == 0 and by_path.json()["session"]["id"] == folder.name


def test_transcript_text_is_escaped_everywhere(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    inject(folder, INJECTED)
    run = run_cli("review", "--sessions", str(root))
    assert run.code == 0, run.stderr
    html = (folder / "report.html").read_text()
    assert "<script>window" not in html and "<img" not in html
    assert html.count("<script>") == 1  # the page's own
    assert html.count("&lt;script&gt;window.__injected = 1&lt;/script&gt;") >= 6
    assert "window.__injected" in run.stdout  # the terminal shows it as text too


def test_missing_recording_still_reviews(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    (folder / "01-answer.flac").unlink()
    run = run_cli("review", folder.name, "--sessions", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json()["missing_audio"] == ["01-answer.flac"]
    assert "01-answer.flac is not in the session folder" in run.stderr
    html = (folder / "report.html").read_text()
    assert 'id="answer"' not in html and "The recording of this answer is not in the session folder" in html
    assert len(_data_uris(html)) == 2  # the follow-up answers are still there


def test_review_opens_the_page_in_the_browser(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o700)
    run = run_cli("review", "--sessions", str(root), "--open", env={"BROWSER": f"{browser} %s"})
    assert run.code == 0, run.stderr
    assert opened.read_text().strip() == (folder / "report.html").as_uri()


def test_review_errors_are_one_line(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    assert_one_line_error(run_cli("review", "--sessions", str(root)), "no sessions yet", code=2)
    assert not root.exists()
    first = copy_session(recorded_session, root, "2026-01-01_090000-mock-dive-deep-webhook")
    copy_session(recorded_session, root, "2026-01-01_090000-mock-dive-deep-webhook-1")
    assert_one_line_error(run_cli("review", "nope", "--sessions", str(root)), "no session 'nope'", code=2)
    assert_one_line_error(run_cli("review", "2026-01", "--sessions", str(root)), "matches 2 sessions", code=2)
    # An exact id wins over a longer one that starts with it.
    assert run_cli("review", first.name, "--sessions", str(root), "--format", "json").json()["session"]["id"] == (
        first.name
    )
    (first / "report.json").unlink()
    assert_one_line_error(run_cli("review", first.name, "--sessions", str(root)), "no report to review", code=2)
    (first / "report.json").write_text("{not json")
    assert_one_line_error(
        run_cli("review", first.name, "--sessions", str(root)), "report.json", "not valid JSON", code=2
    )
    (first / "session.json").write_text("[]")
    assert_one_line_error(run_cli("review", first.name, "--sessions", str(root)), "session.json", code=2)
