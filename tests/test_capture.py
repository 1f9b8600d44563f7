"""Recording to disk and getting it back after a crash; the silence detector; the session store's lock."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from alsa_mic import read_clip
from conftest import FIXTURES, sidecar
from mock_interview.speech.capture import BLOCK_S, StreamingWav, VoiceActivity, partial_path, recover_partial
from mock_interview.store import SessionFolder, recover_sessions

RATE = 16000


def _blocks(samples: np.ndarray):
    step = int(RATE * BLOCK_S)
    for i in range(0, len(samples), step):
        yield samples[i : i + step]


def test_streamed_wav_is_complete_once_finished(tmp_path):
    clip = read_clip(FIXTURES / "weak-joe.flac")
    wav = StreamingWav(tmp_path / "a.wav")
    for block in _blocks(clip):
        wav.append(block.tobytes())
    assert partial_path(tmp_path / "a.wav").exists()
    wav.finish()
    samples, rate = sf.read(tmp_path / "a.wav", dtype="int16")
    assert rate == RATE and np.array_equal(samples, clip)
    assert not partial_path(tmp_path / "a.wav").exists()


@pytest.mark.parametrize("cut_bytes", [0, 1, 3201])
def test_a_recording_cut_off_anywhere_is_recovered(tmp_path, cut_bytes):
    """A process that dies leaves the header unfinished and maybe half a sample: both are repaired."""
    clip = read_clip(FIXTURES / "weak-joe.flac")[: 5 * RATE]
    wav = StreamingWav(tmp_path / "a.wav")
    for block in _blocks(clip):
        wav.append(block.tobytes())
    # No finish(): what a killed process leaves behind, possibly mid-write.
    with open(wav.partial, "r+b") as f:
        f.truncate(wav.partial.stat().st_size - cut_bytes)
    path, duration = recover_partial(wav.partial)
    samples, rate = sf.read(path, dtype="int16")
    kept = (len(clip) * 2 - cut_bytes) // 2
    assert len(samples) == kept and duration == pytest.approx(kept / RATE)
    assert np.array_equal(samples, clip[:kept])


def test_silence_detector_ignores_room_noise_and_ends_after_the_pause():
    rng = np.random.default_rng(7)
    speech = read_clip(FIXTURES / "weak-joe.flac")
    speech_end = sidecar("weak-joe")["sections"][-1]["end_s"]
    noise = lambda n: rng.normal(0, 32768 * 10 ** (-45 / 20), n)  # noqa: E731 - a steady -45 dBFS hum
    audio = np.concatenate([noise(3 * RATE), speech + noise(len(speech)), noise(8 * RATE)])
    audio = np.clip(audio, -32768, 32767).astype("<i2")
    vad = VoiceActivity()
    heard_at = ended_at = None
    for i, block in enumerate(_blocks(audio)):
        vad.feed(block)
        t = (i + 1) * BLOCK_S
        if vad.heard_speech and heard_at is None:
            heard_at = t
        if vad.silence_s >= 4.0 and ended_at is None:
            ended_at = t
    assert heard_at is not None and 3.0 <= heard_at <= 3.0 + 0.4 + 0.3  # the speech starts 0.4 s into the clip
    # Four seconds after the speech, less the last quiet syllable that sinks into the noise.
    assert 3.0 + speech_end + 3.4 <= ended_at <= 3.0 + speech_end + 4.3


def test_recovery_leaves_a_running_session_alone(tmp_path):
    folder = SessionFolder.create(tmp_path, "mock", "dive-deep-webhook", "sde2")
    turn = folder.add_turn("question", "dive-deep-webhook", "Tell me...")
    turn.answer_audio = "01-answer.wav"
    folder.save()
    wav = StreamingWav(folder.turn_file(turn, "answer.wav"))
    wav.append(bytes(3200))
    assert recover_sessions(tmp_path) == []  # the lock says it is still recording
    os.close(folder._lock_fd)  # the process dies: the kernel drops its lock
    folder._lock_fd = None
    (recovered,) = recover_sessions(tmp_path)
    assert recovered.audio.name == "01-answer.wav" and recovered.duration_s == pytest.approx(0.1)
    manifest = json.loads((folder.path / "session.json").read_text())
    assert manifest["status"] == "recovered" and manifest["turns"][0]["stopped_by"] == "recovered"
