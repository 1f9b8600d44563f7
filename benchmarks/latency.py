"""How long a candidate waits for the report once a 3-minute answer ends: streaming against batch.

    .venv/bin/python benchmarks/latency.py              # 3 runs of each, about 12 minutes
    .venv/bin/python benchmarks/latency.py --runs 5 --format json

The real program (`mock-interview mock --no-voice --probes 0`) records a 3-minute corpus answer
(tests/corpus, rendered on first use) through the capture path: PortAudio reading ALSA's file device
fed from a FIFO (tests/alsa_mic.py). The answer is played in real time, its trailing silence cut, and
Enter is pressed the moment the program has written its last sample to the recording: the hard case,
with the last words still to hear. The latency is from that Enter to the last line of the report on
the program's stdout.

- streaming (the default): utterances are transcribed while the answer plays;
- batch (`--no-stream`), the baseline, measured in the same run: the whole recording is transcribed
  after Enter. Nothing happens during its recording, so its answer is played as fast as the device
  takes it, which changes nothing after Enter.

Runs alternate, so the machine's noise falls on both. The word error rate of each transcript
against the answer's text is reported too: streaming must not buy its speed with worse words.
Targets (issue 6): streaming median at most 1.0 s, and at least 10 times faster than batch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import jiwer
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "corpus"))

import corpus  # noqa: E402
import render  # noqa: E402

from alsa_mic import FifoMicrophone, recorded_bytes  # noqa: E402
from mock_interview.speech.audio import SAMPLE_RATE, load_audio, to_int16  # noqa: E402

ANSWER = "dd-store-inventory-mismatch--long-situation"  # a Dive Deep answer of 3 min 8 s
SCENARIO = "dive-deep-webhook"
TARGET_MEDIAN_S = 1.0
TARGET_SPEEDUP = 10.0
REPORT_END = "╰"  # the bottom edge of the verdict panel, the report's last line


def normalized(text: str) -> str:
    from whisper.normalizers import EnglishTextNormalizer  # openai-whisper's, numbers and spellings aligned

    return EnglishTextNormalizer()(text)


def the_answer() -> tuple[np.ndarray, str]:
    """The answer's int16 samples up to the end of its last word, and its text."""
    audio = corpus.corpus_dir() / f"{ANSWER}.flac"
    if not audio.is_file():
        render.main(["--only", ANSWER])
    side = json.loads(audio.with_suffix(".json").read_text())
    last_word_s = max(s["end_s"] for s in side["sections"] if s and s.get("end_s") is not None)
    samples = to_int16(load_audio(audio))
    return samples[: int(last_word_s * SAMPLE_RATE)], side["text"]


def one_run(samples: np.ndarray, stream: bool, workdir: Path) -> dict:
    """One recorded answer through the real program; the seconds from Enter to the end of the report."""
    sessions = workdir / "sessions"
    command = [sys.executable, "-m", "mock_interview", "mock", "--scenario", SCENARIO, "--no-voice",
               "--probes", "0", "--silence", "30", "--sessions", str(sessions),
               "--stream" if stream else "--no-stream"]  # fmt: skip
    with FifoMicrophone(workdir, [samples], paced={0} if stream else set()) as mic:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, **mic.env}, cwd=ROOT)  # fmt: skip
        lines: list[tuple[float, str]] = []
        reader = threading.Thread(target=lambda: lines.extend((time.monotonic(), line) for line in proc.stdout))
        reader.start()
        while recorded_bytes(sessions) < len(samples) * 2 and proc.poll() is None:
            time.sleep(0.005)
        enter = time.monotonic()
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=600)
        reader.join()
        if proc.returncode != 0:
            raise SystemExit(f"the program failed ({proc.returncode}): {proc.stderr.read()}")
    verdict = next(i for i, (_, line) in enumerate(lines) if "Bar raiser thinks" in line)
    shown = next(t for t, line in lines[verdict:] if line.startswith(REPORT_END))
    (folder,) = [p for p in sessions.iterdir() if p.is_dir()]
    report = json.loads((folder / "report.json").read_text())
    return {"mode": "streaming" if stream else "batch", "latency_s": shown - enter,
            "transcript": report["transcript"]["text"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each mode (default 3)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    args = ap.parse_args(argv)
    samples, text = the_answer()
    runs = []
    for i in range(args.runs):
        for stream in (True, False):
            with tempfile.TemporaryDirectory(prefix="mock-interview-latency-") as td:
                run = one_run(samples, stream, Path(td))
            run["wer"] = jiwer.wer(normalized(text), normalized(run.pop("transcript")))
            runs.append(run)
            if args.format == "text":
                print(f"run {i + 1} {run['mode']:9} {run['latency_s']:6.2f} s  WER {run['wer']:.3f}", flush=True)
    summary = {"answer": ANSWER, "answer_s": round(len(samples) / SAMPLE_RATE, 1), "runs": runs}
    for mode in ("streaming", "batch"):
        mine = [r for r in runs if r["mode"] == mode]
        summary[mode] = {
            "median_s": statistics.median(r["latency_s"] for r in mine),
            "max_s": max(r["latency_s"] for r in mine),
            "wer": statistics.median(r["wer"] for r in mine),
        }
    speedup = summary["batch"]["median_s"] / summary["streaming"]["median_s"]
    summary["speedup"] = speedup
    summary["met"] = summary["streaming"]["median_s"] <= TARGET_MEDIAN_S and speedup >= TARGET_SPEEDUP
    if args.format == "json":
        print(json.dumps(summary, indent=2))
        return 0
    s, b = summary["streaming"], summary["batch"]
    print(f"\n{ANSWER}: {summary['answer_s']} s of speech, Enter at its last word, {args.runs} runs each")
    print(f"  streaming  median {s['median_s']:.2f} s (max {s['max_s']:.2f})  WER {s['wer']:.3f}"
          f"   target ≤ {TARGET_MEDIAN_S} s: {'met' if s['median_s'] <= TARGET_MEDIAN_S else 'MISSED'}")  # fmt: skip
    print(f"  batch      median {b['median_s']:.2f} s (max {b['max_s']:.2f})  WER {b['wer']:.3f}")
    print(f"  streaming is {speedup:.1f}x faster   target ≥ {TARGET_SPEEDUP:.0f}x: "
          f"{'met' if speedup >= TARGET_SPEEDUP else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
