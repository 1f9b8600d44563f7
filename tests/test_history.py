"""`history`, `export` and `delete`: the SQLite index over the session folders, and what holds it up."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, assert_one_line_error, copy_session, run_cli
from mock_interview import history

DAYS = ["2026-03-01T09:00:00+0000", "2026-03-08T09:00:00+0000", "2026-03-15T09:00:00+0000"]


def _practised(recorded: Path, root: Path) -> list[Path]:
    """Three sessions a week apart: the Situation shrinks towards its target and the flags thin out."""
    folders = []
    for i, (day, situation_s, keep) in enumerate(zip(DAYS, [61.0, 44.0, 31.0], [None, 4, 1])):
        folder = copy_session(recorded, root, f"2026-03-{1 + 7 * i:02d}_090000-mock-dive-deep-webhook", day)
        report = json.loads((folder / "report.json").read_text())
        report["sections"][0].update(duration_s=situation_s, status="over" if situation_s > 37.5 else "ok")
        if keep is not None:
            report["flags"] = report["flags"][:keep]
        (folder / "report.json").write_text(json.dumps(report))
        folders.append(folder)
    return folders


def _indexed(root: Path) -> list[str]:
    with sqlite3.connect(root / history.INDEX) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM sessions ORDER BY started_at")]


def test_history_over_several_sessions(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folders = _practised(recorded_session, root)
    flags = [json.loads((f / "report.json").read_text())["flags"] for f in folders]

    run = run_cli("history", "--sessions", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    data = run.json()
    assert [s["id"] for s in data["sessions"]] == [f.name for f in folders]
    first = data["sessions"][0]
    assert first["scenario"] == "dive-deep-webhook" and first["level"] == "sde2" and first["verdict"]
    assert [t["id"] for t in first["sections"]] == ["situation", "task", "action", "result", "reflection"]
    assert [s["sections"][0]["duration_s"] for s in data["sessions"]] == [61.0, 44.0, 31.0]
    assert first["sections"][1]["duration_s"] is None and first["sections"][1]["status"] == "missing"
    assert [sum(s["flags"].values()) for s in data["sessions"]] == [len(f) for f in flags]
    assert (first["probes_strong"], first["probes_weak"]) == (1, 1)
    assert data["skipped"] == []

    trends = data["trends"]
    assert trends["reports"] == 3
    situation = trends["sections"][0]
    assert situation["earlier_s"] == 52.5 and situation["latest_s"] == 31.0 and situation["latest_target_s"] == 30
    assert situation["movement"] == "closer"
    dropped = flags[0][1]["id"]  # raised in the first two sessions, not in the latest
    assert dropped not in {f["id"] for f in flags[2]}
    assert {"id": dropped, "earlier": 2, "earlier_of": 2, "latest": 0} in trends["flags"]

    # The terminal: a row a session, and how the latest compares.
    text = run_cli("history", "--sessions", str(root), env={"COLUMNS": "160"})
    assert text.code == 0, text.stderr
    assert text.stdout.count("dive-deep-webhook") == 3
    assert "61/30" in text.stdout and "31/30" in text.stdout
    assert "Situation: 52 s → 31 s, closer to the 30 s target" in text.stdout
    assert f"{dropped}: in 2 of 2 before, not in the latest" in text.stdout

    # The progress page: a chart per section, a dot per session, a row per flag; private and offline.
    page = Path(data["page"])
    assert page == root / "progress.html" and stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE((root / history.INDEX).stat().st_mode) == 0o600
    html = page.read_text()
    assert html.count('aria-label="situation: seconds per session"') == 1
    assert html.count('<circle class="time"') == 3 * 4  # the Task was missing every time
    assert html.count('class="missing" x=') == 3
    assert html.count('<g class="flag-row"') == len({f["id"] for f in flags[0]})
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")


def test_damaged_and_missing_folders_are_reported_and_skipped(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    good, bad_manifest, bad_report = _practised(recorded_session, root)
    assert run_cli("history", "--sessions", str(root)).code == 0
    (bad_manifest / "session.json").write_text('{"id": "half a fi')
    (bad_report / "report.json").write_text(json.dumps({"schema": "mock-interview/report/v1", "sections": 5}))
    (root / "holiday-photos").mkdir()
    (root / "notes.txt").write_text("not a session")

    run = run_cli("history", "--sessions", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    data = run.json()
    assert [s["id"] for s in data["sessions"]] == [good.name]
    skipped = {s["id"]: s["reason"] for s in data["skipped"]}
    assert set(skipped) == {bad_manifest.name, bad_report.name, "holiday-photos"}
    assert "session.json: not valid JSON" in skipped[bad_manifest.name]
    assert "report.json: damaged report" in skipped[bad_report.name]
    assert "session.json: missing" in skipped["holiday-photos"]
    for sid in skipped:
        assert f"skipped {sid}: " in run.stderr.replace("\n", "")
    assert _indexed(root) == [good.name]
    # The latest session that can be reviewed is the one left whole.
    review = run_cli("review", "--sessions", str(root), "--format", "json")
    assert review.code == 0, review.stderr
    assert review.json()["session"]["id"] == good.name

    # A folder removed by hand leaves the index, and says so once.
    shutil.rmtree(good)
    gone = run_cli("history", "--sessions", str(root), "--format", "json")
    assert gone.code == 0, gone.stderr
    assert gone.json()["sessions"] == []
    assert {"id": good.name, "reason": "the session folder is gone; removed from the index"} in gone.json()["skipped"]
    again = run_cli("history", "--sessions", str(root), "--format", "json").json()
    assert good.name not in {s["id"] for s in again["skipped"]}


def test_a_damaged_index_is_rebuilt_from_the_folders(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folders = _practised(recorded_session, root)
    assert run_cli("history", "--sessions", str(root)).code == 0
    (root / history.INDEX).write_bytes(b"this is not a database" * 100)
    assert_one_line_error(run_cli("history", "--sessions", str(root)), "damaged", "history --rebuild", code=2)
    run = run_cli("history", "--sessions", str(root), "--rebuild")
    assert run.code == 0, run.stderr
    assert "Rebuilt the index from 3 session folders" in run.stderr
    assert _indexed(root) == [f.name for f in folders]


def test_the_index_schema_migrates(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    # An index as version 1 of the schema wrote it, before follow-up judgements were kept.
    with sqlite3.connect(root / history.INDEX) as conn:
        conn.executescript(history.MIGRATIONS[0])
        summary = history.summarize(folder)
        conn.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (summary.id, summary.mode, summary.scenario, summary.level, summary.started_at, summary.status,
             summary.duration_s, summary.verdict, history._changed_ns(folder)),
        )  # fmt: skip
        conn.execute("PRAGMA user_version = 1")
    found = history.sync(root)
    with sqlite3.connect(root / history.INDEX) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    (migrated,) = found.sessions
    assert (migrated.probes_strong, migrated.probes_weak) == (1, 1)  # read again from the folder
    assert migrated.sections == summary.sections and migrated.flags == summary.flags

    # An index from a newer program is not touched.
    with sqlite3.connect(root / history.INDEX) as conn:
        conn.execute("PRAGMA user_version = 7")
    assert_one_line_error(run_cli("history", "--sessions", str(root)), "newer mock-interview", "--rebuild", code=2)
    assert run_cli("history", "--sessions", str(root), "--rebuild").code == 0


RECORD = """
import sys, time
from pathlib import Path
from mock_interview import history
root, folder, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
history.record(root, folder)
"""


def test_many_sessions_finishing_at_the_same_moment_lose_nothing(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folders = [copy_session(recorded_session, root, f"2026-04-01_0900{i:02d}-mock-x") for i in range(8)]
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", RECORD, str(root), str(f), str(go)], cwd=ROOT, stderr=subprocess.PIPE)
        for f in folders
    ]
    time.sleep(1.5)  # every process imported and waiting
    go.touch()
    for p in procs:
        _, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr.decode()
    assert sorted(_indexed(root)) == [f.name for f in folders]


def test_two_real_sessions_finishing_together(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    answers = [recorded_session / "01-transcript.json", recorded_session / "02-transcript.json"]
    args = [sys.executable, "-m", "mock_interview", "mock", "--no-voice", "--sessions", str(root), "--format", "json"]
    args += [a for answer in answers for a in ("--answer-file", str(answer))]
    env = {**os.environ, "ALSA_CONFIG_PATH": str(tmp_path / "no-sound.conf")}
    procs = [subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    for p in procs:
        _, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr.decode()
        assert b"history index was not updated" not in stderr
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(folders) == 2
    assert sorted(_indexed(root)) == folders  # indexed as they ended, before any history command


def test_export_is_one_private_zip_of_the_session(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    dest = tmp_path / "out" / "session.zip"
    dest.parent.mkdir()
    run = run_cli("export", folder.name, "--sessions", str(root), "-o", str(dest))
    assert run.code == 0, run.stderr
    assert f"wrote {dest}" in run.stderr
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with zipfile.ZipFile(dest) as z:
        names = set(z.namelist())
        assert z.read(f"{folder.name}/01-answer.flac") == (folder / "01-answer.flac").read_bytes()
    expected = {f"{folder.name}/{p.name}" for p in folder.iterdir()}
    assert names == expected
    assert {f"{folder.name}/report.html", f"{folder.name}/session.json", f"{folder.name}/report.json"} <= names
    # Into a folder: the session's name.
    assert run_cli("export", folder.name, "--sessions", str(root), "-o", str(dest.parent)).code == 0
    assert zipfile.ZipFile(dest.parent / f"{folder.name}.zip").namelist()

    # The default name is the session's, in the current folder.
    run = subprocess.run(
        [sys.executable, "-m", "mock_interview", "export", folder.name[:17], "--sessions", str(root)],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert zipfile.ZipFile(tmp_path / f"{folder.name}.zip").testzip() is None


def test_delete_removes_the_recordings_and_the_index_row(recorded_session, tmp_path):
    root = tmp_path / "sessions"
    gone = _practised(recorded_session, root)[1]
    assert run_cli("history", "--sessions", str(root)).code == 0
    assert_one_line_error(run_cli("delete", gone.name, "--sessions", str(root)), "--yes", code=2)
    assert gone.is_dir()

    run = run_cli("delete", gone.name, "--sessions", str(root), "--yes")
    assert run.code == 0, run.stderr
    assert f"deleted {gone.name}" in run.stderr
    assert not gone.exists()
    audio = [p for p in root.rglob("*") if p.suffix in (".flac", ".wav", ".ogg")]
    assert len(audio) == 6 and not any(p.is_relative_to(gone) for p in audio)  # the other two sessions' own
    assert gone.name not in _indexed(root)
    after = run_cli("history", "--sessions", str(root), "--format", "json").json()
    assert gone.name not in {s["id"] for s in after["sessions"]} | {s["id"] for s in after["skipped"]}
    assert_one_line_error(run_cli("delete", gone.name, "--sessions", str(root), "--yes"), "no session", code=2)


def test_delete_asks_first_in_a_terminal(recorded_session, tmp_path):
    import pexpect

    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    for answer, kept in (("n", True), ("y", False)):
        child = pexpect.spawn(
            sys.executable, ["-m", "mock_interview", "delete", folder.name, "--sessions", str(root)],
            cwd=str(ROOT), encoding="utf-8", timeout=60,
        )  # fmt: skip
        child.expect(r"Delete .* and its recordings\? \[y/N\]")
        child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        assert folder.exists() == kept
        assert ("Nothing deleted." in child.before) == kept


@pytest.mark.parametrize("command", ["delete", "export"])
def test_a_running_session_is_not_deleted_or_exported(recorded_session, tmp_path, command):
    root = tmp_path / "sessions"
    folder = copy_session(recorded_session, root)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running session holds it
    try:
        run = run_cli(command, folder.name, "--sessions", str(root), "--yes" if command == "delete" else "-o",
                      *([] if command == "delete" else [str(tmp_path / "x.zip")]))  # fmt: skip
        assert_one_line_error(run, "still running", code=2)
        assert (folder / "01-answer.flac").exists()
    finally:
        os.close(fd)
