"""Analysis quality on the recorded fixtures: boundary error, word error rate and flags.

    .venv/bin/python benchmarks/analysis_quality.py

Runs the real pipeline (faster-whisper tiny.en, segmentation, rules) on every fixture in
audio_fixtures/ whose sidecar knows the truth, and prints per fixture and overall:
section boundary error (start and end of each section against the true times), word error
rate against the reference text, the flags raised against those expected and forbidden, and
whether each spoken follow-up answer is judged as what it is (weak or strong).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import jiwer

from mock_interview.analysis.patterns import load_catalogue
from mock_interview.analyze import analyze_transcript, judge_probe, read_answer
from mock_interview.scenario import find_scenario
from mock_interview.speech.transcribe import load_engine

ROOT = Path(__file__).resolve().parent.parent


def _norm(text: str) -> str:
    text = text.lower().replace("%", " percent").replace("-", " ")
    return re.sub(r"[^a-z0-9' ]+", " ", text)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    engine = load_engine()
    catalogue = load_catalogue()
    errors: list[float] = []
    agreed = probe_answers = 0
    print(f"{'fixture':16} {'WER':>5} {'max err':>8}  flags (missing expected / forbidden raised)")
    for sidecar in sorted((ROOT / "audio_fixtures").glob("*.json")):
        truth = json.loads(sidecar.read_text())
        transcript = read_answer(ROOT / "audio_fixtures" / truth["audio"], engine)
        wer = jiwer.wer(_norm(truth["text"]), _norm(transcript.text))
        if not truth.get("scenario"):
            print(f"{sidecar.stem:16} {wer:5.2f} {'-':>8}  (not a STAR answer)")
            continue
        if truth["kind"] == "probe-answer":
            probe = next(p for p in find_scenario(truth["scenario"]).probes if p.id == truth["probe"])
            judged = judge_probe(probe, transcript, catalogue)
            agreed += judged.label == truth["quality"]
            probe_answers += 1
            print(f"{sidecar.stem[:32]:32} {wer:5.2f}  judged {judged.label} (spoken {truth['quality']})")
            continue
        report = analyze_transcript(transcript, find_scenario(truth["scenario"]), "sde2", catalogue)
        mine = []
        for got, want in zip(report.sections, truth["sections"]):
            if want["start_s"] is None or got.timing.start_s is None:
                continue
            mine += [abs(got.timing.start_s - want["start_s"]), abs(got.timing.end_s - want["end_s"])]
        errors += mine
        raised = {f.id for f in report.flags}
        missed = sorted(set(truth["expect_flags"]) - raised)
        wrong = sorted(set(truth["forbid_flags"]) & raised)
        print(f"{sidecar.stem:16} {wer:5.2f} {max(mine):7.2f}s  {sorted(raised)} ({missed} / {wrong})")
    print(
        f"\nboundary error over {len(errors)} boundaries: median {statistics.median(errors):.2f} s, "
        f"90th percentile {percentile(errors, 0.9):.2f} s, max {max(errors):.2f} s"
    )
    print(f"follow-up answers judged as spoken: {agreed} of {probe_answers}")


if __name__ == "__main__":
    main()
