"""Bad input: one clear line on stderr, a meaningful non-zero exit code, never a traceback."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from conftest import FIXTURES, assert_one_line_error, run_cli


def test_missing_file(tmp_path):
    path = tmp_path / "nothing.wav"
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "no such file", code=3)


def test_corrupt_audio(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(256)) * 20)
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "cannot read as audio", code=3)


def test_empty_audio_file(tmp_path):
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "empty", code=3)


def test_audio_with_no_samples(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.int16), 16000)
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "no audio", code=3)


def test_silent_audio(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000 * 4, dtype=np.int16), 16000)
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "silent", code=3)


def test_noise_without_speech(tmp_path):
    path = tmp_path / "hum.wav"
    t = np.arange(16000 * 4) / 16000
    sf.write(path, (0.2 * np.sin(2 * np.pi * 50 * t)).astype(np.float32), 16000)
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "no speech", code=3)


def test_empty_text(tmp_path):
    path = tmp_path / "answer.txt"
    path.write_text("  \n\n")
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "empty", code=2)


def test_transcript_json_without_words(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"text": "hello"}')
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "words", code=2)


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "answer.docx"
    path.write_bytes(b"PK")
    assert_one_line_error(run_cli("analyze", str(path)), str(path), "unsupported", code=2)


def test_unknown_scenario():
    run = run_cli("analyze", str(FIXTURES / "weak-joe.flac"), "--scenario", "no-such-story")
    assert_one_line_error(run, "unknown scenario", "no-such-story", "dive-deep-webhook", code=2)


def test_unknown_level():
    run = run_cli("analyze", str(FIXTURES / "weak-joe.flac"), "--level", "principal")
    assert run.code == 2 and "Traceback" not in run.stderr
    assert "principal" in run.stderr and "sde1" in run.stderr


def test_missing_user_scenario_folder(tmp_path):
    run = run_cli("scenarios", "list", "--scenarios", str(tmp_path / "nope"))
    assert_one_line_error(run, "does not exist", code=2)
