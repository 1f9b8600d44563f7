"""Reviewing a past session: its report read back, its recordings embedded, its HTML page written."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from mock_interview.errors import AudioError, InputError
from mock_interview.history import REPORT, History
from mock_interview.report.html import EmbeddedAudio, render
from mock_interview.report.model import Report, read_report
from mock_interview.speech.audio import SAMPLE_RATE, load_audio
from mock_interview.store import Manifest, read_manifest, write_private

PAGE = "report.html"
OPUS_BITRATE = 24_000  # clear speech; a three-minute answer takes about 540 kB, a WAV of it 5.8 MB


@dataclass(frozen=True)
class ReviewPage:
    manifest: Manifest
    report: Report
    path: Path  # the HTML page
    missing_audio: tuple[str, ...]  # recordings the report names that the folder no longer holds


def latest_reviewable(history: History, root: Path) -> str:
    """The id of the newest session that has a report."""
    for session in reversed(history.sessions):
        if session.has_report:
            return session.id
    raise InputError(f"no session with a report in {root} yet: practise with `mock-interview mock` first")


def embed_audio(path: Path) -> EmbeddedAudio:
    """The recording as Ogg Opus, small enough to carry inside the page; its times are those of the original."""
    import av  # PyAV, which faster-whisper already brings; imported here as it is slow to import

    samples = load_audio(path)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = OPUS_BITRATE
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return EmbeddedAudio("audio/ogg; codecs=opus", buffer.getvalue())


def write_review(folder: Path) -> ReviewPage:
    """Write FOLDER's review page (report.html) and return what it shows."""
    manifest = read_manifest(folder)
    if not (folder / REPORT).exists():
        raise InputError(
            f"{folder.name}: no report to review (a {manifest.mode} session, {manifest.status}); "
            "`mock-interview history` lists the sessions"
        )
    report = read_report(folder / REPORT)
    missing: list[str] = []

    def audio(name: str | None) -> EmbeddedAudio | None:
        if not name:
            return None
        try:
            return embed_audio(folder / Path(name).name)
        except AudioError:
            missing.append(Path(name).name)
            return None

    answer = audio(report.source)
    probes = {pid: a for pid, ans in report.probe_answers.items() if (a := audio(ans.audio)) is not None}
    page = write_private(folder / PAGE, render(report, manifest, answer, probes))
    return ReviewPage(manifest, report, page, tuple(missing))
