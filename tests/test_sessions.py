"""The voice sessions end to end: the real program recording through PortAudio from ALSA's file device."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf

from alsa_mic import SAMPLE_RATE, FifoMicrophone, alsa_env, read_clip, recorded_bytes
from conftest import FIXTURES, ROOT, assert_one_line_error, run_cli, sidecar
from mock_interview.analyze import read_answer

SILENCE_S = 2.0


def _session(root: Path) -> tuple[Path, dict]:
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder, json.loads((folder / "session.json").read_text())


def _wer(reference: str, heard: str) -> float:
    def norm(text: str) -> str:
        return " ".join("".join(ch if ch.isalnum() or ch == " " else " " for ch in text.lower()).split())

    return jiwer.wer(norm(reference), norm(heard))


def _assert_recorded(path: Path, clip: np.ndarray) -> float:
    """The saved answer holds the clip sample for sample, then only the silence that ended it."""
    samples, rate = sf.read(path, dtype="int16")
    assert rate == SAMPLE_RATE
    assert np.array_equal(samples[: len(clip)], clip)
    assert not samples[len(clip) :].any()
    return len(samples) / rate


def test_mock_session_end_to_end_through_portaudio(tmp_path, engine):
    answer = read_clip(FIXTURES / "weak-joe.flac")
    follow_through = read_clip(FIXTURES / "probe-follow-through-strong.flac")
    verify = read_clip(FIXTURES / "probe-verify-fix-weak.flac")
    sessions = tmp_path / "sessions"
    with FifoMicrophone(tmp_path, [answer, follow_through, verify]) as mic:
        run = run_cli("mock", "--sessions", str(sessions), "--silence", str(SILENCE_S), "--probes", "2", env=mic.env)
    assert run.code == 0, run.stderr
    assert "Bar raiser thinks" in run.stdout

    folder, manifest = _session(sessions)
    assert manifest["status"] == "complete" and manifest["mode"] == "mock"
    turns = manifest["turns"]
    assert [t["kind"] for t in turns] == ["question", "probe", "probe"]
    assert [t["ref"] for t in turns[1:]] == ["follow-through", "verify-fix"]

    for turn, clip, name in zip(turns, [answer, follow_through, verify], ["weak-joe", "probe-follow-through-strong",
                                                                          "probe-verify-fix-weak"]):  # fmt: skip
        assert turn["stopped_by"] == "silence"
        duration = _assert_recorded(folder / turn["answer_audio"], clip)
        # Silence ends the answer SILENCE_S after the last voiced sound, give or take a block.
        speech_end = sidecar(name).get("speech_end_s") or sidecar(name)["sections"][-1]["end_s"]
        assert speech_end + SILENCE_S - 0.2 <= duration <= speech_end + SILENCE_S + 0.4
        words = json.loads((folder / turn["transcript"]).read_text())
        assert _wer(sidecar(name)["text"], words["text"]) <= 0.25
        prompt = folder / turn["prompt_audio"]
        assert sf.info(prompt).samplerate == 22050

    # The interviewer's voice is real speech: Whisper hears the question in it.
    question = read_answer(folder / turns[0]["prompt_audio"], engine).text.lower()
    assert "details" in question and "reports" in question

    report = json.loads((folder / "report.json").read_text())
    assert report["schema"] == "mock-interview/report/v1"
    assert [s["id"] for s in report["sections"]] == ["situation", "task", "action", "result", "reflection"]
    assert report["sections"][1]["status"] == "missing"
    assert {"handoff", "unverified", "no-metric"} <= {f["id"] for f in report["flags"]}
    probes = report["probes"]
    assert [p["id"] for p in probes] == ["follow-through", "verify-fix"]
    assert probes[0]["answer"]["judgement"] == "strong"
    assert probes[1]["answer"]["judgement"] == "weak"
    assert "unverified" in probes[1]["answer"]["flags"]
    assert "Follow-up answers: 1 strong" in " ".join(report["verdict"]["reasons"])
    assert (folder / "report.md").read_text().startswith("#")

    # Only the user can read a session.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_killed_mid_answer_then_recovered_at_next_start(tmp_path):
    answer = read_clip(FIXTURES / "strong-joe.flac")
    sessions = tmp_path / "sessions"
    with FifoMicrophone(tmp_path, [answer], paced={0}) as mic:
        env = {**os.environ, **mic.env, "MOCK_INTERVIEW_SESSIONS": str(sessions)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_interview", "mock", "--no-voice"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while mic.written < 6 * 2 * SAMPLE_RATE or not list(sessions.glob("*/*.partial.wav")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the recording never started"
            time.sleep(0.05)
        fed_s = mic.written / 2 / SAMPLE_RATE
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    (partial,) = sessions.glob("*/01-answer.partial.wav")

    nxt = run_cli("scenarios", "list", env={"MOCK_INTERVIEW_SESSIONS": str(sessions)})
    assert nxt.code == 0, nxt.stderr
    assert "Recovered" in nxt.stderr and "01-answer.wav" in nxt.stderr
    assert not partial.exists()
    folder, manifest = _session(sessions)
    recovered = folder / "01-answer.wav"
    samples, rate = sf.read(recovered, dtype="int16")
    kept_s = len(samples) / rate
    print(f"fed {fed_s:.2f} s before the kill, recovered {kept_s:.2f} s")
    # Everything fed up to one second before the kill is there, sample for sample.
    assert fed_s - 1.0 <= kept_s <= fed_s + 0.05, (fed_s, kept_s)
    assert np.array_equal(samples, answer[: len(samples)])
    assert manifest["status"] == "recovered"
    assert manifest["turns"][0]["stopped_by"] == "recovered"
    assert "recovered" in manifest["notes"][-1]

    again = run_cli("scenarios", "list", env={"MOCK_INTERVIEW_SESSIONS": str(sessions)})
    assert "Recovered" not in again.stderr  # said once, not at every start


def test_answer_files_stand_in_for_the_microphone(tmp_path):
    sessions = tmp_path / "s"
    run = run_cli(
        "mock", "--no-voice", "--sessions", str(sessions), "--format", "json",
        "--answer-file", str(FIXTURES / "weak-joe.flac"),
        "--answer-file", str(FIXTURES / "probe-follow-through-weak.flac"),
        env={"ALSA_CONFIG_PATH": str(tmp_path / "none.conf")},  # no sound devices at all
    )  # fmt: skip
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["probes"][0]["answer"]["judgement"] == "weak"
    assert "handoff" in report["probes"][0]["answer"]["flags"]
    assert report["probes"][1]["answer"] is None
    assert "no more --answer-file" in run.stderr
    folder, manifest = _session(sessions)
    assert manifest["turns"][0]["stopped_by"] == "file"
    assert (folder / "01-answer.flac").read_bytes() == (FIXTURES / "weak-joe.flac").read_bytes()


def test_no_speech_heard_says_so_and_keeps_the_recording(tmp_path):
    with FifoMicrophone(tmp_path, [np.zeros(SAMPLE_RATE, dtype="<i2")]) as mic:
        run = run_cli("mock", "--no-voice", "--sessions", str(tmp_path / "s"), env=mic.env)
    assert_one_line_error(run, "no speech heard", "01-answer.wav", code=3)
    folder, manifest = _session(tmp_path / "s")
    assert manifest["status"] == "interrupted"
    assert sf.info(folder / "01-answer.wav").duration == pytest.approx(30.0, abs=0.2)


def test_demo_runs_a_whole_session(tmp_path):
    run = run_cli("demo", "--sessions", str(tmp_path), "--format", "json")
    assert run.code == 0, run.stderr
    report = run.json()
    assert [p["answer"]["judgement"] for p in report["probes"]] == ["strong", "weak"]
    folder, manifest = _session(tmp_path)
    assert manifest["mode"] == "demo" and manifest["status"] == "complete"
    _assert_recorded(folder / "01-answer.wav", read_clip(FIXTURES / "weak-joe.flac"))
    assert "the stand-in candidate plays weak-joe.flac" in run.stderr


def _spawn(args: list[str], env: dict[str, str]):
    import pexpect

    return pexpect.spawn(
        sys.executable, ["-m", "mock_interview", *args], cwd=str(ROOT), env={**os.environ, **env},
        encoding="utf-8", timeout=120, dimensions=(40, 120),
    )  # fmt: skip


def test_drill_in_a_terminal_with_key_presses(tmp_path):
    """Situation cut short with Enter and redone with r, then each section in turn, then the whole report."""
    truth = sidecar("strong-joe")
    full = read_clip(FIXTURES / "strong-joe.flac")
    sections = {s["id"]: read_clip(FIXTURES / "strong-joe.flac", s["start_s"] - 0.08, s["end_s"] + 0.08)
                for s in truth["sections"]}  # fmt: skip
    clips = [sections["situation"], *(sections[s] for s in ("situation", "task", "action", "result", "reflection"))]
    assert len(full) > 0
    sessions = tmp_path / "s"
    with FifoMicrophone(tmp_path, clips, paced={0}) as mic:
        child = _spawn(["drill", "--no-voice", "--silence", str(SILENCE_S), "--sessions", str(sessions)], mic.env)
        child.expect("Situation · target 30 s")
        child.expect("REC")
        while mic.written < 3 * 2 * SAMPLE_RATE:  # three seconds in, the candidate stops with Enter
            time.sleep(0.05)
        child.send("\r")
        child.expect(r"ended by Enter")
        child.expect(r"Situation: [\d.]+ s against a target of 30 s: UNDER")
        child.expect("Section done")
        child.send("r")
        for name in ("Situation", "Task", "Action", "Result", "Reflection"):
            if name != "Situation":
                child.expect(f"{name} · target")
            child.expect(f"{name}: [\\d.]+ s against a target of")
            child.expect("Section done")
            child.send("\r")
        child.expect("Report")
        child.expect("Bar raiser thinks")
        child.expect(pexpect_eof())
        child.close()
    assert child.exitstatus == 0

    folder, manifest = _session(sessions)
    turns = manifest["turns"]
    assert [t["ref"] for t in turns] == ["situation", "situation", "task", "action", "result", "reflection"]
    assert turns[0]["stopped_by"] == "enter" and 2.5 <= turns[0]["duration_s"] <= 4.0
    assert all(t["stopped_by"] == "silence" for t in turns[1:])
    assert turns[0]["result"]["status"] == "under"
    report = json.loads((folder / "report.json").read_text())
    # The whole answer keeps each kept take as its section, timed as spoken.
    for got, want in zip(report["sections"], truth["sections"]):
        assert got["status"] != "missing"
        assert got["duration_s"] == pytest.approx(want["end_s"] - want["start_s"], abs=1.0)
    assert not {f["id"] for f in report["flags"]} & {"missing-section", "handoff", "we-language", "no-metric"}
    assert sf.info(folder / "answer.wav").duration > sum(want["end_s"] - want["start_s"] for want in truth["sections"])


@pytest.mark.parametrize(
    ("typed", "chosen"), [(b"r", "r"), (b"\x1b[A" + b"q", "q"), (b"\r", "n"), (b"\x04", "n")], ids=str
)
def test_a_key_typed_while_the_prompt_is_drawn_is_the_answer(tmp_path, monkeypatch, typed, chosen):
    """Keys reach the terminal before the program reads them (a fast candidate, a loaded machine): they are the
    answer, not flushed away leaving the prompt waiting. An arrow key is passed over; Ctrl-D takes the default."""
    import pty
    import threading

    from rich.console import Console

    from mock_interview.live import Screen
    from mock_interview.session import SECTION_KEYS

    keyboard, terminal = pty.openpty()
    stdin, shown = os.fdopen(terminal, "r"), (tmp_path / "screen.txt").open("w")
    monkeypatch.setattr(sys, "stdin", stdin)
    screen = Screen(Console(file=shown), speaker=None)
    assert screen.interactive
    os.write(keyboard, typed)  # typed before the prompt, the terminal still in line mode
    time.sleep(0.1)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(screen.choose("Section done.", SECTION_KEYS, default="n")))
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():
        os.write(keyboard, b"x\r")  # let the thread end before saying the key was lost
        reader.join(timeout=5)
    assert got == [chosen]
    for end in (stdin, shown):
        end.close()
    os.close(keyboard)


def test_mock_in_a_terminal_shows_the_answer_as_it_is_heard(tmp_path):
    """While the weak answer is spoken in real time, the live view under the meter shows words of it and the
    section it is in with that section's countdown; then the candidate stops with Enter."""
    answer = read_clip(FIXTURES / "weak-joe.flac")
    sessions = tmp_path / "s"
    styled = r"(?:\x1b\[[\d;]*m)*"  # rich colours each part of the line
    with FifoMicrophone(tmp_path, [answer], paced={0}) as mic:
        child = _spawn(["mock", "--no-voice", "--probes", "0", "--silence", "30", "--sessions", str(sessions)],
                       mic.env)  # fmt: skip
        child.expect("REC")
        child.expect(r"(?i)platform team")  # a heard utterance, in the transcript under the meter
        child.expect(rf"(Situation|Task|Action|Result|Reflection) {styled}\d+:\d\d\.\d of \d+:\d\d")
        assert recorded_bytes(sessions) < len(answer) * 2, "all of that was on screen while the answer went on"
        child.send("\r")
        child.expect(r"ended by Enter")
        child.expect("Bar raiser thinks")
        child.expect(pexpect_eof())
        child.close()
    assert child.exitstatus == 0


def pexpect_eof():
    import pexpect

    return pexpect.EOF


def test_study_walkthrough_and_quiz(tmp_path, scenario):
    keys = "abcdefgh"
    # Right on the first question, wrong on the others.
    answers = [keys[q.answer] if i == 0 else keys[(q.answer + 1) % len(q.options)] for i, q in enumerate(scenario.quiz)]
    proc = subprocess.run(
        [sys.executable, "-m", "mock_interview", "study", "--no-voice", "--sessions", str(tmp_path)],
        input="\n".join(answers) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", proc.stdout).split())  # the words, without the panels around them
    for piece in (
        scenario.overview,
        *(s.coaching for s in scenario.sections),
        *(s.common_mistake for s in scenario.sections),
        *(s.strong_example for s in scenario.sections if s.strong_example),
        scenario.weak_answer.bar_raiser,
        *scenario.weak_answer.flagged_phrases,
        *(p.emphasize for p in scenario.principles),
        *(lvl.bar for lvl in scenario.levels.values()),
        *(q.explanation for q in scenario.quiz),
    ):
        assert " ".join(piece.split())[:60] in text, piece
    assert f"Quiz: 1 of {len(scenario.quiz)} right." in text
    assert text.count("Not quite") == len(scenario.quiz) - 1
    _, manifest = _session(tmp_path)
    quiz = [t for t in manifest["turns"] if t["kind"] == "quiz"]
    assert [t["result"]["right"] for t in quiz] == [True] + [False] * (len(quiz) - 1)


def test_study_quiz_spoken_renders_every_prompt(tmp_path, engine):
    mic_env = alsa_env(tmp_path, tmp_path / "unused.raw")
    (tmp_path / "unused.raw").touch()
    proc = subprocess.run(
        [sys.executable, "-m", "mock_interview", "study", "--quiz", "--sessions", str(tmp_path / "s")],
        input="a\na\na\n", capture_output=True, text=True, cwd=ROOT, timeout=120, env={**os.environ, **mic_env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    folder, manifest = _session(tmp_path / "s")
    for turn in manifest["turns"]:
        assert sf.info(folder / turn["prompt_audio"]).duration > 1.0
    heard = read_answer(folder / manifest["turns"][0]["prompt_audio"], engine).text.lower()
    spoken = re.sub(r"(?m)^\s*[a-h]\)", " ", manifest["turns"][0]["prompt"])  # the question and its options
    assert _wer(spoken, heard) < 0.35


# ---- when parts are missing ------------------------------------------------------------------------


def _hide_library(tmp_path: Path, code: str) -> dict[str, str]:
    """A sitecustomize that makes a system library look uninstalled to the child process."""
    (tmp_path / "sitecustomize.py").write_text(code)
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _speakers_only(tmp_path: Path) -> dict[str, str]:
    """A machine whose only sound device plays: no capture device at all."""
    conf = tmp_path / "speakers-only.conf"
    conf.write_text("pcm.!default { type asym playback.pcm { type null } }\n")
    return {"ALSA_CONFIG_PATH": str(conf)}  # alone: not even the machine's own cards


def test_no_microphone(tmp_path):
    run = run_cli("mock", "--no-voice", "--sessions", str(tmp_path / "s"), env=_speakers_only(tmp_path))
    assert_one_line_error(run, "no microphone found", "--answer-file", code=4)
    assert not (tmp_path / "s").exists() or not list((tmp_path / "s").iterdir())  # nothing was started


def test_unknown_input_device(tmp_path):
    mic = alsa_env(tmp_path, tmp_path / "a.raw")
    (tmp_path / "a.raw").touch()
    run = run_cli("mock", "--no-voice", "--device", "42", "--sessions", str(tmp_path / "s"), env=mic)
    assert_one_line_error(run, "input device 42", "mock-interview devices", code=4)


def test_no_portaudio(tmp_path):
    env = _hide_library(
        tmp_path,
        "import ctypes.util\n_find = ctypes.util.find_library\n"
        "ctypes.util.find_library = lambda name: None if 'portaudio' in name else _find(name)\n",
    )
    run = run_cli("mock", "--no-voice", "--sessions", str(tmp_path / "s"), env=env)
    assert_one_line_error(run, "PortAudio is not installed", "libportaudio2", "--answer-file", code=4)
    assert run_cli("devices", env=env).code == 4


def test_no_espeak(tmp_path):
    env = _hide_library(
        tmp_path,
        "import ctypes\n_load = ctypes.cdll.LoadLibrary\n"
        "def _no_espeak(name):\n    if 'espeak' in str(name):\n        raise OSError(name)\n    return _load(name)\n"
        "ctypes.cdll.LoadLibrary = _no_espeak\n",
    )
    run = run_cli("study", "--quiz", "--sessions", str(tmp_path / "s"), env=env)
    assert_one_line_error(run, "espeak-ng", "--no-voice", code=4)


def test_no_speakers(tmp_path):
    conf = tmp_path / "microphone-only.conf"
    (tmp_path / "a.raw").touch()
    conf.write_text(f'pcm.!default {{ type asym capture.pcm {{ type file slave.pcm {{ type null }} file "/dev/null" '
                    f'infile "{tmp_path / "a.raw"}" format "raw" }} }}\n')  # fmt: skip
    env = {"ALSA_CONFIG_PATH": str(conf)}  # alone: not even the machine's own cards
    run = run_cli("study", "--quiz", "--sessions", str(tmp_path / "s"), env=env)
    assert_one_line_error(run, "no speakers", "--no-voice", code=4)


def test_missing_answer_file(tmp_path):
    run = run_cli("mock", "--no-voice", "--answer-file", str(tmp_path / "nope.wav"), "--sessions", str(tmp_path))
    assert_one_line_error(run, "nope.wav", "no such file", code=2)


def test_devices_and_voices(tmp_path):
    mic = alsa_env(tmp_path, tmp_path / "a.raw")
    (tmp_path / "a.raw").touch()
    listed = run_cli("devices", "--format", "json", env=mic)
    assert listed.code == 0, listed.stderr
    assert any(d["name"] == "default" and d["is_default"] for d in listed.json())
    none = run_cli("devices", env=_speakers_only(tmp_path))
    assert_one_line_error(none, "no microphone found", code=4)
    voices = run_cli("voices", "--language", "en", "--format", "json")
    assert voices.code == 0, voices.stderr
    assert any("en-us" in v["languages"] for v in voices.json())
    bad = run_cli("mock", "--voice", "klingon-xx", "--sessions", str(tmp_path / "s"), env=mic)
    assert_one_line_error(bad, "no voice 'klingon-xx'", "mock-interview voices", code=2)
