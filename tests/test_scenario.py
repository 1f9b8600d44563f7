"""Scenario files: the built-in one is complete, and every kind of broken file gets one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SCENARIO_FILE, assert_one_line_error, run_cli
from mock_interview.scenario import SECTION_IDS, json_schema

SEED = ROOT.parent / "shared" / "seeds" / "dive-deep-star-walkthrough.txt"


def test_builtin_scenario_validates():
    run = run_cli("scenarios", "validate", str(SCENARIO_FILE))
    assert run.code == 0, run.stderr
    assert "dive-deep-webhook" in run.stdout


def test_builtin_scenario_carries_the_seed(scenario):
    assert [s.id for s in scenario.sections] == list(SECTION_IDS)
    assert [s.target_s for s in scenario.sections] == [30, 20, 90, 20, 15]
    assert all(s.coaching and s.common_mistake and s.signals for s in scenario.sections)
    assert len(scenario.probes) == 4 and all(p.weak.why and p.key_quote for p in scenario.probes)
    assert len(scenario.quiz) == 3 and all(len(q.options) >= 3 for q in scenario.quiz)
    assert {p.name for p in scenario.principles} == {"Ownership", "Bias for Action", "Invent and Simplify"}
    assert scenario.levels["sde1"].budget_s == 120
    assert scenario.levels["sde2"].budget_s == pytest.approx(scenario.total_target_s)
    assert 150 <= scenario.levels["senior"].budget_s <= 180
    assert scenario.levels["senior"].example_reflection and scenario.levels["sde2"].example_reflection
    assert "Leaning No Hire" in scenario.weak_answer.bar_raiser
    assert {"handoff", "no-metric", "vague-result", "unverified"} <= set(scenario.weak_answer.expected_flags)


@pytest.mark.skipif(not SEED.exists(), reason="the seed page lives in shared/, beside the checkout")
def test_every_seed_strong_example_is_in_the_scenario(scenario):
    seed = SEED.read_text(encoding="utf-8")
    for section in scenario.sections[:4]:
        assert section.strong_example and " ".join(section.strong_example.split()) in " ".join(seed.split())


def test_level_targets_scale_with_budget(scenario):
    assert scenario.target_s("action", "sde2") == pytest.approx(90)
    assert scenario.target_s("action", "sde1") == pytest.approx(90 * 120 / 175)
    assert sum(scenario.target_s(s, "sde1") for s in SECTION_IDS) == pytest.approx(120)


def test_published_schema_is_current():
    published = (ROOT / "scenarios" / "scenario.schema.json").read_text()
    assert json.loads(published) == json.loads(json_schema()), "run `make schema`"


def _broken(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(SCENARIO_FILE.read_text())
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


BROKEN = {
    "missing field": (lambda d: d.pop("question"), "question", "field required"),
    "wrong type": (lambda d: d["sections"][2].update(target_s="ninety"), "sections[2].target_s", "number"),
    "negative target": (lambda d: d["sections"][0].update(target_s=-5), "sections[0].target_s", "greater than 0"),
    "sections out of order": (lambda d: d["sections"].reverse(), "sections", "in that order"),
    "missing section": (lambda d: d["sections"].pop(4), "sections", "reflection"),
    "unknown section id": (lambda d: d["sections"][1].update(id="tasks"), "sections[1].id", "situation"),
    "missing level": (lambda d: d["levels"].pop("senior"), "levels", "senior"),
    "unknown level": (lambda d: d["levels"].update(staff=d["levels"]["sde2"]), "levels.staff", "sde1"),
    "quiz answer out of range": (lambda d: d["quiz"][0].update(answer=9), "quiz[0]", "not an index"),
    "unknown flag": (lambda d: d["probes"][1].update(targets=["mumbling"]), "probes[1].targets", "unknown flag"),
    "typo in a field name": (lambda d: d["sections"][0].update(coachng="x"), "sections[0].coachng", "not permitted"),
    "duplicate probe id": (lambda d: d["probes"][1].update(id=d["probes"][0]["id"]), "probes", "duplicate"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_scenario_names_file_and_field(tmp_path, kind):
    mutate, field, problem = BROKEN[kind]
    path = _broken(tmp_path, mutate)
    run = run_cli("scenarios", "validate", str(path))
    assert_one_line_error(run, str(path), field, problem, code=2)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("id: x\nquestion: [unclosed\nsections: {}\n")
    assert_one_line_error(run_cli("scenarios", "validate", str(path)), str(path), "line", "yaml", code=2)


def test_non_mapping_file(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    assert_one_line_error(run_cli("scenarios", "validate", str(path)), str(path), "mapping", code=2)


def test_missing_scenario_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert_one_line_error(run_cli("scenarios", "validate", str(path)), str(path), "no such", code=2)


def test_users_scenario_folder_by_option_and_environment(tmp_path):
    data = yaml.safe_load(SCENARIO_FILE.read_text())
    data["id"] = "my-own-story"
    data["principle"] = "Ownership"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(data))
    by_option = run_cli("scenarios", "list", "--scenarios", str(tmp_path), "--format", "json")
    by_env = run_cli("scenarios", "list", "--format", "json", env={"MOCK_INTERVIEW_SCENARIOS": str(tmp_path)})
    for run in (by_option, by_env):
        assert run.code == 0, run.stderr
        ids = {row["id"] for row in run.json()}
        assert {"my-own-story", "dive-deep-webhook"} <= ids


def test_broken_file_in_users_folder_is_reported_when_listing(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: Bad Id With Spaces\n")
    run = run_cli("scenarios", "list", "--scenarios", str(tmp_path))
    assert_one_line_error(run, "bad.yaml", code=2)


def test_show_prints_the_walkthrough():
    run = run_cli("scenarios", "show", "dive-deep-webhook")
    assert run.code == 0, run.stderr
    for needle in ("Situation", "Coaching", "Common mistake", "Slack", "Senior SDE"):
        assert needle in run.stdout
