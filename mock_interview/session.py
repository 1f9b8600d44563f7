"""The three voice modes: mock, drill and study, as plain sequences of turns over the stages.

A turn is: the interviewer speaks (Screen.say), the candidate answers (a recording, or
the next --answer-file), the answer is transcribed and judged. Every step is written to
the session folder before the next begins, so an interrupted session keeps all it had.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mock_interview.analysis.patterns import Catalogue
from mock_interview.analysis.star import SectionSpan, answer_units
from mock_interview.analysis.transcript import Transcript, Word
from mock_interview.analyze import (
    SectionFeedback,
    analyze_section,
    analyze_transcript,
    judge_probe,
    with_probe_answers,
)
from mock_interview.errors import AudioError
from mock_interview.live import HeardSoFar, Screen, read_with_progress
from mock_interview.report.markdown import render as render_markdown
from mock_interview.report.model import ProbeAnswer, Report, clock
from mock_interview.scenario import Scenario
from mock_interview.speech.audio import SAMPLE_RATE, load_audio, write_wav
from mock_interview.speech.capture import StopRules
from mock_interview.speech.stream import StreamingTranscriber
from mock_interview.speech.transcribe import Engine
from mock_interview.store import SessionFolder, Turn

DRILL_GAP_S = 1.5  # silence between sections in the drill's joined answer; longer than a sentence break
SECTION_KEYS = {"r": "redo", "n": "next", "q": "finish"}  # after each drill section
PROBE_MAX_S = 180.0
QUIZ_KEYS = "abcdefgh"


@dataclass
class Context:
    """What every mode needs: the scenario and its bar, where answers come from, and where they go."""

    scenario: Scenario
    level: str
    catalogue: Catalogue
    screen: Screen
    folder: SessionFolder
    transcriber: Engine | None = None  # None: no answers will be heard (study)
    engine_name: str | None = None
    silence_s: float = 4.0
    max_s: float = 600.0
    can_record: bool = True
    answer_files: list[Path] = field(default_factory=list)  # used in order before the microphone
    before_recording: Callable[[Turn], None] | None = None  # the demo puts its stand-in answer in the microphone
    stream: bool = True  # transcribe a recorded answer while it is given, not after
    listening: dict[Path, LiveListener] = field(default_factory=dict)  # recordings heard while they were made

    def stop_rules(self, max_s: float | None = None, budget_s: float | None = None) -> StopRules:
        return StopRules(silence_s=self.silence_s, max_s=min(self.max_s, max_s or self.max_s), budget_s=budget_s)

    def ask(self, turn: Turn, title: str | None = None) -> None:
        audio = self.screen.say(turn.prompt, self.folder.turn_file(turn, "prompt.wav"), title)
        turn.prompt_audio = audio.name if audio else None
        self.folder.save()

    def answer(
        self,
        turn: Turn,
        rules: StopRules,
        target_s: float | None = None,
        on_target: Callable[[], None] | None = None,
        whole_answer: bool = False,
    ) -> Path | None:
        """The candidate's answer to TURN as a file in the session folder; None when there is no way to answer.
        WHOLE_ANSWER: a STAR answer, whose section the live view estimates as it is given."""
        if self.answer_files:
            source = self.answer_files.pop(0)
            path = self.folder.turn_file(turn, "answer" + source.suffix.lower())
            shutil.copyfile(source, path)
            turn.answer_audio, turn.stopped_by = path.name, "file"
            self.screen.note(f"Answer from {source}")
        elif self.can_record:
            path = self.folder.turn_file(turn, "answer.wav")
            turn.answer_audio = path.name
            self.folder.save()  # the manifest names the file before the first sample lands in it
            if self.before_recording is not None:
                self.before_recording(turn)
            listener = None
            if self.stream and self.transcriber is not None:
                listener = LiveListener(self.transcriber, self if whole_answer else None)
            try:
                recording = self.screen.record(path, rules, target_s, on_target, listener)
            except BaseException:
                if listener is not None:
                    listener.close()
                raise
            turn.duration_s, turn.stopped_by = round(recording.duration_s, 2), recording.stopped_by
            if listener is not None:
                if recording.stopped_by == "no-speech":
                    listener.close()
                else:
                    self.listening[path] = listener
            if recording.stopped_by == "no-speech":
                self.folder.save()
                raise AudioError(
                    f"no speech heard in {recording.duration_s:.0f} s: check the microphone and its level "
                    f"(`mock-interview devices`); the recording is kept in {path}"
                )
        else:
            return None
        self.folder.save()
        return path

    def transcribe(self, turn: Turn, path: Path) -> Transcript:
        listener = self.listening.pop(path, None)
        if listener is not None:
            transcript = listener.finish(str(path))
        else:
            transcript = read_with_progress(path, self.transcriber, self.screen.console)
        name = self.folder.turn_file(turn, "transcript.json").name
        self.folder.write_json(name, transcript.to_dict())
        turn.transcript = name
        if turn.duration_s is None:
            turn.duration_s = round(transcript.duration_s, 2)
        self.folder.save()
        return transcript

    def save_report(self, report: Report) -> None:
        self.folder.write_text("report.json", report.to_json())
        self.folder.write_text("report.md", render_markdown(report))


class LiveListener:
    """Transcribes an answer while it is recorded (speech.stream) and keeps what the live view shows.

    For a whole STAR answer it also analyses the words so far after each utterance, on the worker thread:
    that gives the section the answer is in, and leaves the sentence embeddings of all but the last utterance
    cached, so the report after the answer is quick."""

    def __init__(self, engine: Engine, ctx: Context | None) -> None:
        self.ctx = ctx
        self.heard: HeardSoFar | None = None
        self.transcriber = StreamingTranscriber(engine, self._on_heard)

    def feed(self, block: bytes) -> None:
        self.transcriber.feed(block)

    def end(self) -> None:
        self.transcriber.end()

    def finish(self, source: str) -> Transcript:
        return self.transcriber.finish(source)

    def close(self) -> None:
        self.transcriber.close()

    def _on_heard(self, words: tuple[Word, ...]) -> None:
        if self.ctx is None or not words:
            self.heard = HeardSoFar(words)
            return
        s, level = self.ctx.scenario, self.ctx.level
        so_far = Transcript(words, words[-1].end)
        report = analyze_transcript(so_far, s, level, self.ctx.catalogue, probes=0)
        started = [sec.timing for sec in report.sections if sec.timing.start_s is not None]
        latest = max(started, key=lambda t: t.start_s, default=None)
        if latest is None:
            self.heard = HeardSoFar(words)
        else:
            self.heard = HeardSoFar(words, latest.id, latest.start_s, s.target_s(latest.id, level))


# ---- mock ---------------------------------------------------------------------------------------


def run_mock(ctx: Context, probes: int) -> Report:
    """The interview: question, free answer, analysis, follow-up probes answered and judged, then the report."""
    s, level = ctx.scenario, ctx.scenario.levels[ctx.level]
    ctx.screen.note(
        f"{s.principle} · {level.title} ({ctx.level}): aim for {_span(level.budget_min_s, level.budget_s)}. "
        "Answer in STAR order: Situation, Task, Action, Result, then what you learned."
    )
    turn = ctx.folder.add_turn("question", s.id, s.question)
    ctx.ask(turn, title="Interviewer")
    path = ctx.answer(turn, ctx.stop_rules(budget_s=level.budget_s), whole_answer=True)
    if path is None:
        raise AudioError("no answer: there is no microphone and no --answer-file")
    transcript = ctx.transcribe(turn, path)
    report = analyze_transcript(transcript, s, ctx.level, ctx.catalogue, probes, engine=ctx.engine_name)
    turn.result = {"sections": {sec.timing.id: sec.timing.status for sec in report.sections}}
    ctx.save_report(report)
    ctx.screen.note(_sections_line(report))

    answers: dict[str, ProbeAnswer] = {}
    for i, choice in enumerate(report.probes, 1):
        probe = choice.probe
        turn = ctx.folder.add_turn("probe", probe.id, probe.question)
        ctx.ask(turn, title=f"Follow-up {i} of {len(report.probes)}")
        try:
            path = ctx.answer(turn, ctx.stop_rules(max_s=PROBE_MAX_S))
            if path is None:
                ctx.screen.note("No microphone and no more --answer-file: the rest of the follow-ups are listed only.")
                break
            probe_transcript = ctx.transcribe(turn, path)
        except AudioError as e:
            ctx.screen.note(f"No answer to this follow-up: {e}", style="yellow")
            continue
        judgement = judge_probe(probe, probe_transcript, ctx.catalogue, s.principle, ctx.level)
        answers[probe.id] = ProbeAnswer(probe_transcript, judgement, turn.answer_audio)
        turn.result = {"judgement": judgement.label, "reasons": list(judgement.reasons)}
        ctx.folder.save()
    if answers:  # with none the verdict is the same, and the report saved above stands
        report = with_probe_answers(report, answers, s)
        ctx.save_report(report)
    return report


def _span(low: float | None, high: float) -> str:
    return f"{low:.0f}-{high:.0f} s" if low else f"at most {high:.0f} s"


def _sections_line(report: Report) -> str:
    parts = [
        f"{sec.timing.id.capitalize()} {clock(sec.timing.duration_s) if sec.timing.duration_s else 'missing'}"
        for sec in report.sections
    ]
    return "Heard: " + " · ".join(parts)


# ---- drill --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Take:
    section: str
    audio: Path
    transcript: Transcript


def run_drill(ctx: Context) -> Report:
    """Pacing practice: each STAR section on its own against its target, redone until it sits; then the whole."""
    s = ctx.scenario
    ctx.screen.note(
        f"Drill · {s.principle}: {s.question}\nOne section at a time. A tone sounds when the target is reached."
    )
    takes: list[Take] = []
    finished = False
    for section in s.sections:
        target = round(s.target_s(section.id, ctx.level))
        while True:
            prompt = f"{section.id.capitalize()}: {target} seconds."
            turn = ctx.folder.add_turn("section", section.id, prompt)
            ctx.ask(turn, title=f"{section.id.capitalize()} · target {target} s")
            ctx.screen.note(f"Coaching: {section.coaching}")
            path = ctx.answer(turn, ctx.stop_rules(max_s=max(3 * target, 60.0)), target, _cue(ctx))
            if path is None:
                ctx.screen.note("No microphone and no more --answer-file: the drill ends here.")
                finished = True
                break
            try:
                transcript = ctx.transcribe(turn, path)
            except AudioError as e:
                ctx.screen.note(f"Nothing to judge in that take: {e}", style="yellow")
                choice = ctx.screen.choose("", SECTION_KEYS, default="r")
            else:
                feedback = analyze_section(transcript, section.id, s, ctx.level, ctx.catalogue)
                turn.result = _feedback_dict(feedback)
                ctx.folder.save()
                _show_feedback(ctx.screen, feedback)
                choice = ctx.screen.choose("Section done.", SECTION_KEYS, default="n")
                if choice != "r":
                    takes.append(Take(section.id, path, transcript))
            if choice == "r":
                continue
            finished = choice == "q"
            break
        if finished:
            break
    if not takes:
        raise AudioError("the drill ended before any section was answered")
    report = _whole_answer(ctx, takes)
    ctx.save_report(report)
    return report


def _cue(ctx: Context) -> Callable[[], None]:
    def sound() -> None:
        if ctx.screen.speaker is None or not ctx.screen.speaker.cue():
            ctx.screen.console.bell()

    return sound


def _feedback_dict(f: SectionFeedback) -> dict:
    t = f.timing
    return {
        "duration_s": t.duration_s,
        "target_s": t.target_s,
        "status": t.status,
        "flags": [flag.id for flag in f.flags],
        "signals": list(f.signals),
    }


def _show_feedback(screen: Screen, f: SectionFeedback) -> None:
    t = f.timing
    colour = {"ok": "green", "over": "red", "under": "yellow"}.get(t.status, "red")
    screen.note(
        f"{t.id.capitalize()}: {t.duration_s or 0:.1f} s against a target of {t.target_s:.0f} s: {t.status.upper()}",
        style=f"bold {colour}",
    )
    for flag in f.flags:
        quote = f" (“{flag.evidence[0].quote}”)" if flag.evidence else ""
        screen.note(f"  ✗ {flag.message}{quote}", style="red")
        screen.note(f"    {flag.coaching}")
    if f.signals:
        screen.note(f"  ✓ Said what a strong answer says: {', '.join(f.signals)}", style="green")
    if not f.flags and t.status == "ok":
        screen.note("  ✓ On time, and nothing weak in it.", style="green")


def _whole_answer(ctx: Context, takes: list[Take]) -> Report:
    """Join the kept takes into one recording and one transcript whose sections are known, and analyse it."""
    gap = np.zeros(int(DRILL_GAP_S * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    words = []
    ranges: dict[str, tuple[int, int]] = {}
    offset = 0.0
    for take in takes:
        audio = load_audio(take.audio)
        first = len(words)
        words.extend(take.transcript.shifted(offset))
        ranges[take.section] = (first, len(words) - 1)
        pieces += [audio, gap]
        offset += len(audio) / SAMPLE_RATE + DRILL_GAP_S
    joined = ctx.folder.file("answer.wav")
    write_wav(joined, np.concatenate(pieces[:-1]))
    transcript = Transcript(tuple(words), offset - DRILL_GAP_S, source=str(joined))
    sentences = answer_units(transcript.words)  # the units analyze_transcript indexes spans by
    spans = []
    for section in ctx.scenario.sections:
        first, last = ranges.get(section.id, (-1, -2))  # a section never drilled holds no sentence
        inside = [i for i, sen in enumerate(sentences) if first <= sen.first <= last]
        spans.append(SectionSpan(section.id, inside[0], inside[-1]) if inside else SectionSpan(section.id, None, None))
    return analyze_transcript(
        transcript, ctx.scenario, ctx.level, ctx.catalogue, probes=3, engine=ctx.engine_name, spans=spans
    )


# ---- study --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizResult:
    correct: int
    asked: int


def run_study(ctx: Context, quiz_only: bool = False) -> QuizResult:
    """The walkthrough, spoken and shown, then the quiz answered by key."""
    s = ctx.scenario
    if not quiz_only:
        _walkthrough(ctx)
    correct = 0
    for i, q in enumerate(s.quiz, 1):
        options = {QUIZ_KEYS[j]: option for j, option in enumerate(q.options)}
        text = q.question + "\n" + "\n".join(f"  {k}) {option}" for k, option in options.items())
        turn = ctx.folder.add_turn("quiz", f"quiz-{i}", text)
        ctx.ask(turn, title=f"Quiz {i} of {len(s.quiz)}")
        key = ctx.screen.choose("Your answer:", {k: "" for k in options}, default="")
        right = QUIZ_KEYS[q.answer]
        ok = key == right
        correct += ok
        turn.result = {"answer": key or None, "correct": right, "right": ok}
        correct_option = f"{right}) {q.options[q.answer].rstrip('.')}."
        verdict = "Right." if ok else f"{'Not quite' if key else 'No answer'}: the answer is {correct_option}"
        ctx.screen.say(f"{verdict} {q.explanation}", ctx.folder.turn_file(turn, "explanation.wav"))
        ctx.folder.save()
    result = QuizResult(correct, len(s.quiz))
    ctx.screen.note(f"Quiz: {result.correct} of {result.asked} right.", style="bold")
    return result


def _walkthrough(ctx: Context) -> None:
    s = ctx.scenario
    parts: list[tuple[str, str, str]] = [("overview", f"{s.principle}: {s.title}", f"{s.question}\n\n{s.overview}")]
    for sec in s.sections:
        target = round(s.target_s(sec.id, ctx.level))
        body = f"Aim for {target} seconds."
        if sec.strong_example:
            body += f"\n\nA strong {sec.id}: {sec.strong_example}"
        body += f"\n\nCoaching: {sec.coaching}\n\nCommon mistake: {sec.common_mistake}"
        parts.append((sec.id, f"{sec.id.capitalize()} · {target} s", body))
    weak = s.weak_answer
    parts.append(
        (
            "weak-answer",
            "A weak answer, and why it fails",
            f"{weak.text}\n\n"
            + "\n".join(f"✗ {phrase}" for phrase in weak.flagged_phrases)
            + (f"\n\nMissing: {'; '.join(weak.missing)}." if weak.missing else "")
            + f"\n\nThe bar raiser thinks: {weak.bar_raiser}",
        )
    )
    for lp in s.principles:
        parts.append(("principle", lp.name, f"{lp.focus}\n\nEmphasize: {lp.emphasize}\n\nDownplay: {lp.downplay}"))
    for level_id, lvl in s.levels.items():
        parts.append(
            (
                "level",
                f"{lvl.title} ({level_id}) · {_span(lvl.budget_min_s, lvl.budget_s)}",
                f"{lvl.focus}\n\nThe bar: {lvl.bar}\n\nReflection: {lvl.reflection}",
            )
        )
    parts.append(("takeaways", "Takeaways", s.takeaways))
    for ref, title, body in parts:
        turn = ctx.folder.add_turn("study", ref, body)
        ctx.ask(turn, title=title)
        if ctx.screen.interactive and ctx.screen.choose("", {"n": "next", "q": "skip to the quiz"}, "n") == "q":
            return
