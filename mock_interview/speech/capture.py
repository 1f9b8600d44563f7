"""Recording an answer from the microphone, streamed to disk while it happens.

PortAudio delivers 0.1 s blocks on its own thread; they go through a queue to the
caller's thread, which appends them to a WAV file at once and decides when the
answer ends (Enter, sustained silence, or the maximum length). The WAV header is
written last, so a process killed mid-answer (even kill -9) leaves a `.partial.wav`
holding everything but the blocks still in the queue; `recover_partial` repairs it.
"""

from __future__ import annotations

import math
import os
import queue
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from mock_interview.errors import AudioError, SetupError
from mock_interview.speech.audio import SAMPLE_RATE

# The recording loop wakes once a block: Enter is seen at most this late. Whole 20 ms frames (VoiceActivity).
BLOCK_S = 0.04
PARTIAL_SUFFIX = ".partial.wav"
HEADER_BYTES = 44
SAMPLE_BYTES = 2
FSYNC_EVERY_S = 1.0  # a power cut loses at most this much; a killed process loses only the queue
STALL_S = 5.0  # no block for this long: the device stopped delivering
NO_MIC_HINT = "or answer from a recording with --answer-file FILE"


@dataclass(frozen=True)
class StopRules:
    """When an answer ends, besides Enter."""

    silence_s: float = 4.0  # this much silence after speech ends the answer
    max_s: float = 600.0
    wait_s: float = 30.0  # no speech at all within this: give up
    budget_s: float | None = None  # passing it raises a notice, not a stop


@dataclass(frozen=True)
class Meter:
    """What the recording screen shows after each block."""

    elapsed_s: float
    level_dbfs: float
    speaking: bool
    heard_speech: bool
    silence_s: float  # the current run of silence after speech
    over_budget: bool


@dataclass(frozen=True)
class Recording:
    path: Path
    duration_s: float
    speech_s: float
    stopped_by: str  # "enter", "silence", "max-length" or "no-speech"


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    host_api: str
    channels: int
    default_samplerate: float
    is_default: bool


def _dbfs(samples: np.ndarray) -> float:
    if samples.size == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(np.square(samples.astype(np.float64))))) / 32768.0
    return 20 * math.log10(rms) if rms > 0 else -math.inf


class VoiceActivity:
    """An energy detector over 20 ms frames with an adaptive noise floor.

    A frame is voiced when it is 12 dB above the floor and above -50 dBFS; the floor
    falls at once to quieter frames and rises slowly (3 dB a second), so steady room
    noise never counts as speech while a pause between words still does not end it.
    """

    FRAME = SAMPLE_RATE // 50
    ABOVE_FLOOR_DB = 12.0
    MIN_SPEECH_DBFS = -50.0
    FLOOR_RISE_DB = 3.0 / 50
    ONSET_FRAMES = 5  # 0.1 s of voiced frames before speech counts as started

    def __init__(self) -> None:
        self.floor = -math.inf
        self.voiced_run = 0
        self.heard_speech = False
        self.speech_frames = 0
        self.silence_frames = 0
        self.speaking = False

    def feed(self, samples: np.ndarray) -> None:
        for start in range(0, len(samples) - self.FRAME + 1, self.FRAME):
            self._frame(_dbfs(samples[start : start + self.FRAME]))

    def _frame(self, level: float) -> None:
        if self.floor == -math.inf or level < self.floor:
            self.floor = max(level, -90.0)
        else:
            self.floor += self.FLOOR_RISE_DB
        voiced = level >= max(self.floor + self.ABOVE_FLOOR_DB, self.MIN_SPEECH_DBFS)
        self.voiced_run = self.voiced_run + 1 if voiced else 0
        if self.voiced_run >= self.ONSET_FRAMES:
            self.heard_speech = True
        self.speaking = voiced and self.heard_speech
        if self.speaking:
            self.speech_frames += 1
            self.silence_frames = 0
        elif self.heard_speech:
            self.silence_frames += 1

    @property
    def silence_s(self) -> float:
        return self.silence_frames * self.FRAME / SAMPLE_RATE

    @property
    def speech_s(self) -> float:
        return self.speech_frames * self.FRAME / SAMPLE_RATE


def _wav_header(data_bytes: int) -> bytes:
    return b"RIFF" + struct.pack(
        "<I4s4sIHHIIHH4sI",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        SAMPLE_RATE,
        SAMPLE_RATE * SAMPLE_BYTES,
        SAMPLE_BYTES,
        8 * SAMPLE_BYTES,
        b"data",
        data_bytes,
    )


def partial_path(path: Path) -> Path:
    return path.with_name(path.stem + PARTIAL_SUFFIX)


class StreamingWav:
    """A 16 kHz mono int16 WAV appended to block by block; its sizes are filled in by `finish`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = partial_path(path)
        self.fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(self.fd, _wav_header(0))
        self.data_bytes = 0
        self.unsynced_bytes = 0

    def append(self, block: bytes) -> None:
        os.write(self.fd, block)
        self.data_bytes += len(block)
        self.unsynced_bytes += len(block)
        if self.unsynced_bytes >= FSYNC_EVERY_S * SAMPLE_RATE * SAMPLE_BYTES:
            os.fsync(self.fd)
            self.unsynced_bytes = 0

    def finish(self) -> Path:
        os.pwrite(self.fd, _wav_header(self.data_bytes), 0)
        os.fsync(self.fd)
        os.close(self.fd)
        os.replace(self.partial, self.path)
        return self.path


def recover_partial(partial: Path) -> tuple[Path, float]:
    """Repair the header of a recording cut off by a killed process; return its final path and length."""
    size = partial.stat().st_size
    data_bytes = max(0, size - HEADER_BYTES)
    data_bytes -= data_bytes % SAMPLE_BYTES
    with open(partial, "r+b") as f:
        if size < HEADER_BYTES:
            f.write(_wav_header(0)[size:])
        f.seek(0)
        f.write(_wav_header(data_bytes))
        f.truncate(HEADER_BYTES + data_bytes)
    final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX) + ".wav")
    os.replace(partial, final)
    return final, data_bytes / SAMPLE_BYTES / SAMPLE_RATE


def sounddevice() -> ModuleType:
    """The sounddevice module, or a SetupError saying how to get PortAudio."""
    try:
        import sounddevice as sd
    except OSError:
        raise SetupError(
            f"PortAudio is not installed (Debian/Ubuntu: sudo apt install libportaudio2; macOS: brew install "
            f"portaudio), {NO_MIC_HINT}"
        ) from None
    return sd


def input_devices() -> list[InputDevice]:
    sd = sounddevice()
    try:
        default_in = sd.default.device[0]
        if default_in is None or default_in < 0:
            default_in = sd.query_devices(kind="input")["index"]
    except (sd.PortAudioError, ValueError):
        default_in = -1
    apis = sd.query_hostapis()
    return [
        InputDevice(
            d["index"],
            d["name"],
            apis[d["hostapi"]]["name"],
            d["max_input_channels"],
            d["default_samplerate"],
            d["index"] == default_in,
        )
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
    ]


def check_input(device: int | str | None) -> None:
    """Fail early, with what to do, when there is no microphone to record from."""
    sd = sounddevice()
    if not input_devices():
        raise SetupError(f"no microphone found: plug one in and check `mock-interview devices`, {NO_MIC_HINT}")
    try:
        sd.check_input_settings(device=device, channels=1, dtype="int16", samplerate=SAMPLE_RATE)
    except (sd.PortAudioError, ValueError) as e:
        what = f"the input device {device!r}" if device is not None else "the default microphone"
        raise SetupError(
            f"cannot record from {what} ({str(e).splitlines()[0]}): pick another with --device "
            f"(see `mock-interview devices`), {NO_MIC_HINT}"
        ) from None


def record(
    path: Path,
    rules: StopRules,
    device: int | str | None = None,
    on_block: Callable[[Meter], bool] | None = None,
    on_audio: Callable[[bytes], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> Recording:
    """Record from DEVICE into PATH (a WAV) until ON_BLOCK returns True (Enter), silence or the maximum length.
    ON_AUDIO gets each block once it is on disk (the streaming transcriber), and ON_END is called when the last
    one has come, before the device and the file are closed (which takes a tenth of a second).

    The file exists as PATH.partial.wav while recording and is renamed when the answer ends,
    also when recording is interrupted by Ctrl-C or an error.
    """
    sd = sounddevice()
    blocks: queue.Queue[bytes] = queue.Queue()

    def deliver(indata, frames, time_info, status) -> None:  # PortAudio's thread: hand over, nothing more
        blocks.put(bytes(indata))

    vad = VoiceActivity()
    wav = StreamingWav(path)
    stopped_by = "max-length"
    try:
        try:
            stream = sd.RawInputStream(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=int(SAMPLE_RATE * BLOCK_S),
                device=device,
                callback=deliver,
            )
        except (sd.PortAudioError, ValueError) as e:
            raise SetupError(f"cannot open the microphone ({str(e).splitlines()[0]}), {NO_MIC_HINT}") from None
        with stream:
            while wav.data_bytes < rules.max_s * SAMPLE_RATE * SAMPLE_BYTES:
                try:
                    block = blocks.get(timeout=STALL_S)
                except queue.Empty:
                    raise AudioError(
                        f"the microphone stopped delivering audio for {STALL_S:.0f} s; what was recorded is in {path}"
                    ) from None
                wav.append(block)
                if on_audio is not None:
                    on_audio(block)
                vad.feed(np.frombuffer(block, dtype="<i2"))
                elapsed = wav.data_bytes / SAMPLE_BYTES / SAMPLE_RATE
                meter = Meter(
                    elapsed_s=elapsed,
                    level_dbfs=_dbfs(np.frombuffer(block, dtype="<i2")),
                    speaking=vad.speaking,
                    heard_speech=vad.heard_speech,
                    silence_s=vad.silence_s,
                    over_budget=rules.budget_s is not None and elapsed > rules.budget_s,
                )
                if on_block is not None and on_block(meter):
                    stopped_by = "enter"
                    break
                if vad.heard_speech and vad.silence_s >= rules.silence_s:
                    stopped_by = "silence"
                    break
                if not vad.heard_speech and elapsed >= rules.wait_s:
                    stopped_by = "no-speech"
                    break
            if on_end is not None:
                on_end()
    finally:
        wav.finish()
    return Recording(path, wav.data_bytes / SAMPLE_BYTES / SAMPLE_RATE, vad.speech_s, stopped_by)
