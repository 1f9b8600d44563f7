"""Reading audio files: any common format, any rate or channel count, to 16 kHz mono float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mock_interview.errors import AudioError

SAMPLE_RATE = 16000
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".webm", ".wma")
# Below this peak level a recording holds no usable speech (about -50 dBFS).
SILENCE_PEAK = 0.003
MIN_DURATION_S = 0.3


def load_audio(path: Path) -> np.ndarray:
    """Decode PATH with PyAV (ffmpeg's libraries, bundled) into 16 kHz mono float32 in [-1, 1]."""
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    # Imported here: PyAV takes a noticeable time to import and most commands never decode audio.
    import av
    from faster_whisper.audio import decode_audio

    try:
        audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.error.FFmpegError, ValueError, IndexError, OSError) as err:
        raise AudioError(f"{path}: cannot read as audio ({type(err).__name__}: {err})") from None
    return np.asarray(audio, dtype=np.float32)


def check_audible(audio: np.ndarray, path: Path) -> None:
    duration = len(audio) / SAMPLE_RATE
    if duration < MIN_DURATION_S:
        raise AudioError(f"{path}: the recording holds no audio ({duration:.2f} s)")
    peak = float(np.max(np.abs(audio)))
    if peak < SILENCE_PEAK:
        level = 20 * np.log10(peak) if peak > 0 else float("-inf")
        raise AudioError(
            f"{path}: the recording is silent (peak {level:.0f} dBFS over {duration:.1f} s); check the microphone"
        )


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as little-endian int16; exact for audio that was int16 before."""
    return np.clip(np.round(audio * 32768), -32768, 32767).astype("<i2")


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """16 kHz mono float32 in [-1, 1] as a 16-bit WAV."""
    import wave

    samples = to_int16(audio)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.tobytes())
    return path
