"""The question bank: scenarios for all sixteen leadership principles, each complete and each honest about its
own answers, and the ways to pick from it (mock --principle, mock --loop, scenarios list)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import CONTENT_FLAGS, FIXTURES, assert_one_line_error, run_cli
from mock_interview.analysis.patterns import load_catalogue
from mock_interview.analysis.transcript import estimate_timing
from mock_interview.analyze import analyze_transcript
from mock_interview.scenario import PRINCIPLES, builtin_scenario_dir, load_scenario_file

CATALOGUE = load_catalogue(())
FILES = sorted(builtin_scenario_dir().glob("*.yaml"))
BANK = {path.stem: load_scenario_file(path, CATALOGUE.ids) for path in FILES}
# Every content flag the catalogue knows, principle-specific ones included.
ALL_CONTENT = CONTENT_FLAGS | {r.id for r in CATALOGUE.rules if r.category == "content"}


def _content_flags(text: str, scenario, level: str = "sde2") -> set[str]:
    report = analyze_transcript(estimate_timing(text), scenario, level, CATALOGUE)
    return {f.id for f in report.flags} & ALL_CONTENT


def test_every_principle_has_at_least_two_scenarios():
    per_principle = Counter(s.principle for s in BANK.values())
    assert {p: per_principle[p] for p in PRINCIPLES if per_principle[p] < 2} == {}
    assert set(per_principle) <= set(PRINCIPLES)


def test_each_file_is_named_after_its_id_and_every_question_and_story_is_its_own():
    assert all(stem == s.id for stem, s in BANK.items())
    questions = Counter(s.question for s in BANK.values())
    assert [q for q, n in questions.items() if n > 1] == []
    strong = Counter(sec.strong_example for s in BANK.values() for sec in s.sections)
    assert [t for t, n in strong.items() if n > 1] == []


@pytest.mark.parametrize("scenario_id", sorted(BANK))
def test_scenario_is_complete(scenario_id):
    s = BANK[scenario_id]
    assert all(sec.strong_example and sec.signals and sec.coaching and sec.common_mistake for sec in s.sections)
    assert 120 <= s.total_target_s <= 200
    assert max(s.sections, key=lambda sec: sec.target_s).id == "action"
    assert len(s.probes) >= 3 and all(p.weak.why and p.strong.why for p in s.probes)
    assert all(phrase in s.weak_answer.text for phrase in s.weak_answer.flagged_phrases)
    assert len(s.quiz) >= 2 and len(s.principles) >= 2
    assert s.levels["sde2"].example_reflection and s.levels["senior"].example_reflection


@pytest.mark.parametrize("scenario_id", sorted(BANK))
def test_strong_example_is_clean_and_weak_answer_raises_what_it_claims(scenario_id):
    s = BANK[scenario_id]
    strong = " ".join(sec.strong_example or "" for sec in s.sections)
    assert _content_flags(strong, s) == set()
    missed = set(s.weak_answer.expected_flags) - _content_flags(s.weak_answer.text, s)
    assert missed == set(), f"{scenario_id}: the weak answer does not raise {sorted(missed)}"


@pytest.mark.parametrize("scenario_id", sorted(BANK))
def test_senior_example_reflection_names_a_systemic_cause(scenario_id):
    """The senior bar: the strong answer with the senior reflection in place of its own raises nothing."""
    s = BANK[scenario_id]
    texts = [sec.strong_example or "" for sec in s.sections[:-1]] + [s.levels["senior"].example_reflection]
    assert _content_flags(" ".join(texts), s, "senior") == set()


def test_scenarios_list_filters_by_principle_and_shows_a_level():
    run = run_cli("scenarios", "list", "--principle", "backbone", "--level", "senior", "--format", "json")
    assert run.code == 0, run.stderr
    rows = json.loads(run.stdout)
    own = [r for r in rows if r["principle"] == "Have Backbone; Disagree and Commit"]
    assert len(own) >= 2
    assert all(r["principle"] == own[0]["principle"] or own[0]["principle"] in r["also_serves"] for r in rows)
    assert all(r["level"] == "senior" and r["budget_s"] > 0 for r in rows)
    every = json.loads(run_cli("scenarios", "list", "--format", "json").stdout)
    assert len(every) == len(BANK) and len(rows) < len(every)
    text = run_cli("scenarios", "list", "--principle", "frugality")
    assert text.code == 0 and "frugality-" in text.stdout


def test_unknown_or_ambiguous_principle_is_one_line(tmp_path):
    assert_one_line_error(run_cli("scenarios", "list", "--principle", "patience"), "patience", code=2)
    assert_one_line_error(run_cli("mock", "--principle", "be", "--sessions", str(tmp_path)), "say which", code=2)
    both = run_cli("mock", "--principle", "frugality", "--scenario", "dive-deep-webhook", "--sessions", str(tmp_path))
    assert_one_line_error(both, "--scenario", code=2)
    two = run_cli("mock", "--principle", "frugality", "--principle", "earn", "--sessions", str(tmp_path))
    assert_one_line_error(two, "--loop", code=2)


def _mock(sessions, *args: str, answers: tuple[str, ...] = ("strong-joe.flac",)):
    files = [a for name in answers for a in ("--answer-file", str(FIXTURES / name))]
    return run_cli(
        "mock", "--no-voice", "--probes", "0", "--format", "json", "--sessions", str(sessions), *files, *args
    )


def test_principle_picks_the_scenario_practised_least(tmp_path):
    first = _mock(tmp_path, "--principle", "frugality")
    assert first.code == 0, first.stderr
    second = _mock(tmp_path, "--principle", "Frugality")
    assert second.code == 0, second.stderr
    picked = [first.json()["scenario"], second.json()["scenario"]]
    assert all(BANK[p].principle == "Frugality" for p in picked)
    assert picked[0] != picked[1]


def test_loop_runs_one_interview_per_principle_and_keeps_each(tmp_path):
    run = _mock(
        tmp_path, "--loop", "--principle", "earn trust", "--principle", "think big",
        answers=("strong-joe.flac", "weak-joe.flac"),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    loop = run.json()
    assert loop["schema"] == "mock-interview/loop/v1"
    principles = [i["report"]["principle"] for i in loop["interviews"]]
    assert principles == ["Earn Trust", "Think Big"]
    # The weak answer was given second: the debrief must show it, not a copy of the first.
    assert "handoff" in {f["id"] for f in loop["interviews"][1]["report"]["flags"]}
    assert "handoff" not in {f["id"] for f in loop["interviews"][0]["report"]["flags"]}
    history = run_cli("history", "--format", "json", "--sessions", str(tmp_path))
    assert history.code == 0, history.stderr
    rows = json.loads(history.stdout)["sessions"]
    assert [r["mode"] for r in rows] == ["loop", "loop"]
    assert [r["scenario"] for r in rows] == [i["report"]["scenario"] for i in loop["interviews"]]


def test_loop_without_principles_goes_round_the_least_practised(tmp_path):
    run = _mock(tmp_path, "--loop", "--questions", "2", answers=("strong-joe.flac", "weak-joe.flac"))
    assert run.code == 0, run.stderr
    first = [i["report"]["principle"] for i in run.json()["interviews"]]
    again = _mock(tmp_path, "--loop", "--questions", "2", answers=("strong-joe.flac", "weak-joe.flac"))
    second = [i["report"]["principle"] for i in again.json()["interviews"]]
    assert len(set(first)) == 2 and not set(first) & set(second)
