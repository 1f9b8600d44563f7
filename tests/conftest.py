"""Shared test helpers: the repository's fixtures, running the real CLI, and the real Whisper engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio_fixtures"
SCENARIO_FILE = ROOT / "scenarios" / "dive-deep-webhook.yaml"
CONTENT_FLAGS = {
    "we-language", "no-metric", "vague-result", "handoff", "no-ownership-proof",
    "passive", "unverified", "generic-reflection", "hedging", "no-systemic-cause",
    "no-disagreement", "no-constraint", "blame", "no-customer",
}  # fmt: skip


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """The real program in a child process, as a user would start it."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MOCK_INTERVIEW_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "mock_interview", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(run: Run, *needles: str, code: int | None = None) -> None:
    assert run.code != 0, run.stdout
    if code is not None:
        assert run.code == code, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


def copy_session(folder: Path, root: Path, name: str | None = None, started_at: str | None = None) -> Path:
    """A copy of a session folder under ROOT, as another session (its id is its folder name)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy = Path(shutil.copytree(folder, root / (name or folder.name)))
    manifest = json.loads((copy / "session.json").read_text())
    manifest["id"] = copy.name
    manifest["started_at"] = started_at or manifest["started_at"]
    (copy / "session.json").write_text(json.dumps(manifest, indent=2))
    return copy


def inject(folder: Path, payload: str) -> None:
    """Put PAYLOAD in every piece of spoken or written text the page shows, as if the candidate had said it."""
    report = json.loads((folder / "report.json").read_text())
    words = report["transcript"]["words"]
    words[3]["word"] = payload
    section = next(s for s in report["sections"] if s["text"])
    section["text"] = payload + section["text"]
    report["flags"][0]["evidence"][0]["quote"] = payload
    report["flags"][0]["message"] += payload
    answered = next(p for p in report["probes"] if p["answer"])
    answered["answer"]["text"] = payload
    answered["answer"]["reasons"].append(payload)
    report["verdict"]["reasons"].append(payload)
    report["question"] = payload
    (folder / "report.json").write_text(json.dumps(report))


def sidecar(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def engine():
    from mock_interview.speech.transcribe import load_engine

    return load_engine()


@pytest.fixture(scope="session")
def catalogue():
    from mock_interview.analysis.patterns import load_catalogue

    return load_catalogue()


@pytest.fixture(scope="session")
def scenario(catalogue):
    from mock_interview.scenario import load_scenario_file

    return load_scenario_file(SCENARIO_FILE, catalogue.ids)


@pytest.fixture(scope="session")
def recorded_session(tmp_path_factory) -> Path:
    """One whole mock session made by the real program from recorded answers: the weak answer, then a weak
    and a strong follow-up answer. Tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("recorded")
    answers = ["weak-joe.flac", "probe-follow-through-weak.flac", "probe-verify-fix-strong.flac"]
    run = run_cli(
        "mock", "--no-voice", "--sessions", str(root), "--format", "json",
        *[arg for name in answers for arg in ("--answer-file", str(FIXTURES / name))],
        env={"ALSA_CONFIG_PATH": str(root / "no-sound.conf")},  # no sound devices at all
    )  # fmt: skip
    assert run.code == 0, run.stderr
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder
