"""A microphone for tests: ALSA's file plugin as the default capture device (see DESIGN.md).

The plugin reads a FIFO that a thread here feeds with one answer after another, each
followed by digital silence until the program closes its stream. PortAudio opens the
device a few times while it starts (to probe it) without reading; an answer cut off
before its end is therefore given again from the start to the next opener.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from mock_interview.speech.capture import BLOCK_S

SAMPLE_RATE = 16000
# ALSA's file plugin reads the FIFO a period (the program's block) at a time and does not wait out a short read:
# it hands over whatever else is in its buffer, and at once. So the feeder writes whole blocks, in real time when
# paced; the program then wakes once a block, as it does on a sound card.
CHUNK_BYTES = int(BLOCK_S * SAMPLE_RATE) * 2
F_SETPIPE_SZ = 1031
ASOUNDRC = """\
pcm.nullsink {{ type null }}
pcm.filemic {{ type file slave.pcm "nullsink" file "/dev/null" infile "{infile}" format "raw" }}
pcm.!default {{ type asym playback.pcm "nullsink" capture.pcm "filemic" }}
"""
SYSTEM_ALSA_CONF = "/usr/share/alsa/alsa.conf"


def read_clip(path: Path, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
    """16 kHz mono int16 samples of a fixture, optionally one stretch of it."""
    samples, rate = sf.read(path, dtype="int16")
    assert rate == SAMPLE_RATE
    return samples[int(start_s * SAMPLE_RATE) : None if end_s is None else int(end_s * SAMPLE_RATE)]


def alsa_env(tmp: Path, infile: Path) -> dict[str, str]:
    conf = tmp / "asoundrc"
    conf.write_text(ASOUNDRC.format(infile=infile))
    return {"ALSA_CONFIG_PATH": f"{SYSTEM_ALSA_CONF}:{conf}"}


class FifoMicrophone:
    """Feeds CLIPS (int16 arrays) into the capture device, in order; those whose index is in PACED in real time.

    A clip counts as given once the program has read half a second of it: a program that
    stops listening early (Enter, or killed) gets the next clip at its next turn.
    """

    GIVEN_BYTES = SAMPLE_RATE  # 0.5 s of int16: more than a probing open can take (pipe + one chunk)

    def __init__(self, tmp: Path, clips: list[np.ndarray], paced: set[int] = frozenset()) -> None:
        self.fifo = tmp / "microphone.fifo"
        os.mkfifo(self.fifo)
        self.env = alsa_env(tmp, self.fifo)
        self.clips = [c.astype("<i2").tobytes() for c in clips]
        self.paced = paced
        self.delivered: list[int] = []  # bytes of each clip handed to the program
        self.written = 0  # bytes of the current clip written so far
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FifoMicrophone:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _open(self) -> int | None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: nobody is reading yet
                    raise
                time.sleep(0.005)
                continue
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)  # little in flight: what was written was nearly all read
            return fd
        return None

    def _run(self) -> None:
        silence = bytes(CHUNK_BYTES)
        for index, clip in enumerate(self.clips):
            pace = index in self.paced
            while True:
                fd = self._open()
                if fd is None:
                    return
                self.written = 0
                started, sent = time.monotonic(), 0
                try:
                    for i in range(0, len(clip), CHUNK_BYTES):
                        sent += os.write(fd, clip[i : i + CHUNK_BYTES].ljust(CHUNK_BYTES, b"\0"))
                        self.written = min(len(clip), i + CHUNK_BYTES)
                        if pace:
                            _wait_until_due(started, sent)
                    while not self._stop.is_set():
                        sent += os.write(fd, silence)  # until the program stops listening
                        if pace:
                            _wait_until_due(started, sent)
                except BrokenPipeError:
                    pass
                finally:
                    os.close(fd)
                if self.written >= min(len(clip), self.GIVEN_BYTES):
                    self.delivered.append(self.written)
                    break
                if self._stop.is_set():
                    return


def _wait_until_due(started: float, sent: int) -> None:
    """Sleep until SENT bytes are due in real time since STARTED: by the clock, because sleeps alone fall behind."""
    time.sleep(max(0.0, started + sent / 2 / SAMPLE_RATE - time.monotonic()))


def recorded_bytes(sessions: Path) -> int:
    """How much audio the program has written to the recording under way in SESSIONS (its WAV grows block by
    block): what it has really heard, whatever ALSA and PortAudio hold in their buffers."""
    from mock_interview.speech.capture import HEADER_BYTES, PARTIAL_SUFFIX

    partial = next(sessions.glob(f"*/*{PARTIAL_SUFFIX}"), None) if sessions.is_dir() else None
    try:
        return partial.stat().st_size - HEADER_BYTES if partial else 0
    except FileNotFoundError:  # renamed at that moment: the recording ended
        return 0
