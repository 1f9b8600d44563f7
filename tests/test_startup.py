"""Start-up stays light: `--help` on the program and on every command imports none of the heavy libraries.

Each is checked in a fresh interpreter, by what it imported rather than by how long it took, so the test
means the same on a loaded machine; benchmarks/startup_memory.py measures the times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, run_cli

# Whisper engines, the audio stack, the speech engine, what loading scenarios and rules needs, and rich (the
# help pages are plain).
HEAVY = ("numpy", "faster_whisper", "ctranslate2", "torch", "whisper", "onnxruntime", "tokenizers", "pydantic",
         "yaml", "sounddevice", "soundfile", "pyttsx3", "rich")  # fmt: skip

# Runs `--help` on the program, every group and every command, in one interpreter, then prints (last, after the
# help pages) the command lines it ran and which heavy modules are loaded: modules stay loaded, so none loaded
# at the end means none loaded by any of them.
EVERY_HELP = """
import json, sys
import typer.main
from mock_interview.cli import app

def walk(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, [*path, name])

runs = []
for path in walk(typer.main.get_command(app), []):
    try:
        app([*path, "--help"], prog_name="mock-interview")
    except SystemExit as e:
        runs.append([path, e.code])
print(json.dumps({"runs": runs, "loaded": [m for m in sys.argv[1:] if m in sys.modules]}))
"""


def _python(code: str, *args: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT,
        timeout=120, check=True,
    )  # fmt: skip
    return proc.stdout


def test_importing_the_cli_loads_no_heavy_module(tmp_path):
    code = "import sys, mock_interview.cli; print(' '.join(sorted(sys.modules)))"
    loaded = set(_python(code, env={"MOCK_INTERVIEW_SESSIONS": str(tmp_path)}).split())
    assert not loaded & set(HEAVY)


def test_help_of_every_command_loads_no_heavy_module(tmp_path):
    # A sessions folder with a finished session in it: start-up looks there for recordings to recover.
    (tmp_path / "2026-11-27_083012-mock-dive-deep-webhook").mkdir()
    out = _python(EVERY_HELP, *HEAVY, env={"MOCK_INTERVIEW_SESSIONS": str(tmp_path), "COLUMNS": "200"})
    result = json.loads(out.splitlines()[-1])
    ran = {" ".join(path) for path, _ in result["runs"]}
    assert {"", "mock", "demo", "analyze", "scenarios", "scenarios list", "review"} <= ran
    assert all(code in (0, None) for _, code in result["runs"]), result["runs"]
    assert result["loaded"] == []


def test_help_still_lists_the_commands(tmp_path):
    run = run_cli("--help", env={"MOCK_INTERVIEW_SESSIONS": str(tmp_path), "COLUMNS": "200"})
    assert run.code == 0, run.stderr
    for command in ("analyze", "mock", "drill", "study", "demo", "devices", "voices", "review", "history",
                    "export", "delete", "scenarios"):  # fmt: skip
        assert f" {command} " in run.stdout, command
    sub = run_cli("mock", "--help", env={"MOCK_INTERVIEW_SESSIONS": str(tmp_path), "COLUMNS": "200"})
    assert sub.code == 0 and "--principle" in sub.stdout and "--loop" in sub.stdout


def test_the_start_up_scan_finds_what_capture_leaves_behind():
    from mock_interview.speech.capture import PARTIAL_SUFFIX
    from mock_interview.store import PARTIAL_GLOB

    assert PARTIAL_GLOB == f"*/*{PARTIAL_SUFFIX}"
