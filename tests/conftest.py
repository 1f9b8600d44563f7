"""Shared test helpers: the repository's fixtures, running the real CLI, and the real Whisper engine."""

from __future__ import annotations

import json
import os
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
    "passive", "unverified", "generic-reflection", "hedging",
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
