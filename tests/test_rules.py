"""The weak-pattern catalogue: each rule kind on small answers, and rules a user adds as data."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, SCENARIO_FILE, assert_one_line_error, run_cli
from mock_interview.analysis.patterns import load_catalogue
from mock_interview.analysis.transcript import estimate_timing
from mock_interview.analyze import analyze_transcript
from mock_interview.scenario import load_scenario_file

SITUATION = "While reviewing dashboards, I noticed a 0.3% webhook drop rate in another team's service."
TASK = "It was not my team and there was no ticket, but I took ownership of the fix."
ACTION = "I pulled the logs. I analyzed the failures. I reproduced the race condition. I wrote a fix with retries."
RESULT = "The drop rate went from 0.3% to zero, recovering $8,000 per week."
REFLECTION = "Looking back, I would propose a shared reliability SLO with alerting across teams."


def flags_for(text, scenario, catalogue, level="sde2", wpm=150.0):
    report = analyze_transcript(estimate_timing(text, wpm=wpm), scenario, level, catalogue)
    return {f.id: f for f in report.flags}, report


def answer(**parts: str) -> str:
    base = {"situation": SITUATION, "task": TASK, "action": ACTION, "result": RESULT, "reflection": REFLECTION}
    base.update(parts)
    return " ".join(base.values())


def test_clean_answer_has_no_content_flags(scenario, catalogue):
    flags, report = flags_for(answer(), scenario, catalogue)
    assert not {f.id for f in flags.values() if f.category == "content"}, flags
    assert [s.timing.status != "missing" for s in report.sections] == [True] * 5


def test_we_language_in_the_action(scenario, catalogue):
    action = "We pulled the logs. We analyzed the failures and we figured out the root cause together. I wrote a fix."
    flags, _ = flags_for(answer(action=action), scenario, catalogue)
    assert "we-language" in flags and flags["we-language"].section == "action"
    assert "we figured out" not in [e.quote for e in flags["we-language"].evidence]  # evidence is the 'we' words
    assert {e.quote.lower() for e in flags["we-language"].evidence} == {"we"}
    # "put a new format together" says nothing of who acted; "our" neither.
    alone = "I put a new rubric together with our recruiter. I ran the training and I scored 3 interviews."
    assert "we-language" not in flags_for(answer(action=alone), scenario, catalogue)[0]


def test_one_we_among_many_i_is_fine(scenario, catalogue):
    action = ACTION + " We shipped it on Friday."
    flags, _ = flags_for(answer(action=action), scenario, catalogue)
    assert "we-language" not in flags


def test_no_metric_and_vague_result(scenario, catalogue):
    flags, _ = flags_for(answer(result="In the end things got better and the team was happy."), scenario, catalogue)
    assert {"no-metric", "vague-result"} <= set(flags)
    assert any("team was happy" in e.quote for e in flags["vague-result"].evidence)


def test_improved_with_a_number_is_not_vague(scenario, catalogue):
    flags, _ = flags_for(
        answer(result="As a result latency improved from 900 to 120 milliseconds."), scenario, catalogue
    )
    assert "vague-result" not in flags and "no-metric" not in flags


def test_generic_reflection(scenario, catalogue):
    flags, _ = flags_for(
        answer(reflection="Looking back, I learned that communication is important."), scenario, catalogue
    )
    assert "generic-reflection" in flags


def test_passive_and_hedging(scenario, catalogue):
    situation = SITUATION + " I kind of thought someone else would fix it eventually, I guess."
    flags, _ = flags_for(answer(situation=situation), scenario, catalogue)
    assert "passive" in flags and "hedging" in flags


def test_this_kind_of_issue_is_not_a_hedge(scenario, catalogue):
    flags, _ = flags_for(
        answer(
            reflection="Looking back, this kind of issue needs a shared SLO. That kind of alerting "
            "would have caught it."
        ),
        scenario,
        catalogue,
    )
    assert "hedging" not in flags


def test_missing_task_is_reported(scenario, catalogue):
    text = answer(task="", situation="While reviewing dashboards, I noticed a 0.3% webhook drop rate in payments.")
    flags, report = flags_for(text, scenario, catalogue)
    statuses = {s.timing.id: s.timing.status for s in report.sections}
    assert statuses["task"] == "missing"
    assert flags["missing-section"].section == "task"
    assert "no-ownership-proof" in flags


def test_long_situation_is_over_target(scenario, catalogue):
    architecture = (
        "Our platform is built from forty micro services behind an API gateway, with a message bus, three databases "
        "and a caching layer, and each service publishes events to a shared topic that fans out to consumers. "
    ) * 4
    flags, _ = flags_for(answer(situation=architecture + SITUATION), scenario, catalogue)
    assert flags["section-over-target"].section == "situation"


@pytest.mark.parametrize("wpm,fires", [(100, True), (150, False), (215, True)])
def test_pace_band(scenario, catalogue, wpm, fires):
    flags, report = flags_for(answer(), scenario, catalogue, wpm=wpm)
    assert report.delivery.words_per_minute == pytest.approx(wpm, rel=0.05)
    assert ("pace" in flags) is fires


def test_fillers_that_whisper_kept_are_counted(scenario, catalogue):
    action = "Um, I pulled the logs. Uh, I analyzed the failures, you know, um, and I wrote a fix. Um, I tested it."
    flags, report = flags_for(answer(action=action), scenario, catalogue)
    assert report.delivery.fillers == {"um": 3, "uh": 1, "you know": 1}
    assert "filler-words" in flags and len(flags["filler-words"].evidence) == 5


def test_user_rule_folder_adds_a_rule(tmp_path):
    (tmp_path / "jargon.yaml").write_text(
        "rules:\n"
        "  - id: jargon\n"
        "    category: content\n"
        "    kind: existence\n"
        "    scope: [answer]\n"
        "    tokens: ['dead letter queue', 'race condition']\n"
        "    severity: low\n"
        "    message: 'Jargon without explanation: {quotes}'\n"
        "    coaching: 'Say what the term means the first time you use it.'\n"
    )
    run = run_cli("analyze", str(FIXTURES / "strong-joe.flac"), "--format", "json", "--rules", str(tmp_path))
    assert run.code == 0, run.stderr
    jargon = [f for f in run.json()["flags"] if f["id"] == "jargon"]
    assert jargon and "race condition" in jargon[0]["message"].lower()
    env_run = run_cli(
        "analyze", str(FIXTURES / "strong-joe.flac"), "--format", "json", env={"MOCK_INTERVIEW_RULES": str(tmp_path)}
    )
    assert any(f["id"] == "jargon" for f in env_run.json()["flags"])


@pytest.mark.parametrize(
    "body,needle",
    [
        ("rules:\n  - id: x\n    kind: existence\n", "category"),
        ("rules:\n  - {id: x, category: content, kind: existence, severity: low, message: m, coaching: c}\n", "tokens"),
        (
            "rules:\n  - {id: x, category: content, kind: existence, tokens: ['(oops'], severity: low, message: m, "
            "coaching: c}\n",
            "regular expression",
        ),
        ("rules: [\n", "yaml"),
        ("rules:\n  - {id: x, category: content, kind: learned, severity: low, message: m, coaching: c}\n", "model"),
        (
            "rules:\n  - {id: x, category: content, kind: learned, model: nope, severity: low, message: m, "
            "coaching: c}\n",
            "rules[0]: no model named 'nope' in flag_models.yaml",
        ),
    ],
)
def test_broken_rule_file_is_one_line(tmp_path, body, needle):
    (tmp_path / "bad.yaml").write_text(body)
    run = run_cli("analyze", str(FIXTURES / "weak-joe.flac"), "--rules", str(tmp_path))
    assert_one_line_error(run, "bad.yaml", needle, code=2)


def test_rules_follow_the_principle_and_the_level(scenario, catalogue):
    """no-ownership-proof is for Ownership and Dive Deep stories; no-systemic-cause for senior answers."""
    no_scope = answer(situation="I noticed a 0.3% webhook drop rate.", task="My goal was to find the cause and fix it.")
    flags, _ = flags_for(no_scope, scenario, catalogue)
    assert "no-ownership-proof" in flags
    customer = scenario.model_copy(update={"principle": "Customer Obsession"})
    flags, _ = flags_for(no_scope, customer, catalogue)
    assert "no-ownership-proof" not in flags

    personal = answer(reflection="Looking back, I would test my fixes against real traffic before I trust them.")
    assert "no-systemic-cause" not in flags_for(personal, scenario, catalogue, level="sde2")[0]
    flags, _ = flags_for(personal, scenario, catalogue, level="senior")
    assert flags["no-systemic-cause"].section == "reflection"
    systemic = answer(reflection="The real cause was that no team owned cross-team alerting, so I set up a shared SLO.")
    assert "no-systemic-cause" not in flags_for(systemic, scenario, catalogue, level="senior")[0]


def test_a_number_vouches_only_for_its_own_clause(scenario, catalogue):
    """'It took them 2 weeks' says nothing of how much better things got."""
    vague = "It took them 2 weeks to get to it, and after that the reports looked a lot cleaner."
    assert "vague-result" in flags_for(answer(result=vague), scenario, catalogue)[0]
    measured = "After that the reports improved from 40 errors a day to 2."
    assert "vague-result" not in flags_for(answer(result=measured), scenario, catalogue)[0]
    # A measure after a comma is still the clause's own: "from ... to" and "by ..." say how much.
    for measured in ("Runs also got faster, from six hours to four.", "Errors went down, by about 30 percent."):
        assert "vague-result" not in flags_for(answer(result=measured), scenario, catalogue)[0], measured


def test_whisper_writing_small_numbers_as_words_counts_as_a_metric(scenario, catalogue):
    result = "By the end we had eight people on the rota instead of three."
    assert "no-metric" not in flags_for(answer(result=result), scenario, catalogue)[0]


def test_a_user_rule_limited_to_a_level(tmp_path):
    (tmp_path / "senior.yaml").write_text(
        "rules:\n"
        "  - {id: no-scale, category: content, kind: absence, scope: [result], levels: [senior],\n"
        "     tokens: ['teams|organi[sz]ation'], severity: low, message: m, coaching: c}\n"
    )
    story = tmp_path / "answer.txt"
    story.write_text(answer())
    for level, fires in (("sde2", False), ("senior", True)):
        run = run_cli("analyze", str(story), "--format", "json", "--level", level, "--rules", str(tmp_path))
        assert run.code == 0, run.stderr
        assert any(f["id"] == "no-scale" for f in run.json()["flags"]) is fires


def test_analyze_for_another_principle(tmp_path):
    story = tmp_path / "answer.txt"
    story.write_text(
        answer(situation="I noticed a 0.3% webhook drop rate.", task="My goal was to find the cause and fix it.")
    )
    dive_deep = run_cli("analyze", str(story), "--format", "json")
    customer = run_cli("analyze", str(story), "--format", "json", "--principle", "customer obsession")
    assert {f["id"] for f in dive_deep.json()["flags"]} - {f["id"] for f in customer.json()["flags"]} == {
        "no-ownership-proof"
    }
    assert_one_line_error(run_cli("analyze", str(story), "--principle", "Bravery"), "Bravery", "Customer Obsession")


def test_a_user_rule_by_examples_matches_other_wording(tmp_path):
    # No token in common with the example: only the sentence embedding can match it.
    (tmp_path / "blame.yaml").write_text(
        "rules:\n"
        "  - id: blame\n"
        "    category: content\n"
        "    kind: existence\n"
        "    scope: [action]\n"
        '    like: ["It was all the other team\'s fault."]\n'
        "    unlike: ['I found the bug in my own code.']\n"
        "    min_similarity: 0.5\n"
        "    severity: medium\n"
        "    message: 'Blaming others'\n"
        "    coaching: 'Own your part.'\n"
    )
    blaming = tmp_path / "blaming.txt"
    blaming.write_text(answer(action=ACTION + " Really, the other team was to blame for all of it."))
    fair = tmp_path / "fair.txt"
    fair.write_text(answer())
    for path, fires in ((blaming, True), (fair, False)):
        run = run_cli("analyze", str(path), "--format", "json", "--rules", str(tmp_path))
        assert run.code == 0, run.stderr
        found = [f for f in run.json()["flags"] if f["id"] == "blame"]
        assert bool(found) is fires
        if fires:
            assert "to blame" in found[0]["evidence"][0]["quote"]


@pytest.mark.parametrize(
    "reflection",
    [
        "At the end of the day, if you treat people well, they'll go the extra mile for you.",
        "What I took away is that honesty always wins in the long run.",
    ],
)
def test_a_platitude_in_new_words_is_a_generic_reflection(scenario, catalogue, reflection):
    assert "generic-reflection" in flags_for(answer(reflection=reflection), scenario, catalogue)[0]


def test_a_lesson_tied_to_its_story_is_not_generic(scenario, catalogue):
    # Close to no platitude, and nearer the story's own sentences than to any example.
    reflection = "What stuck with me is that a retry hides a race condition rather than fixing it."
    assert "generic-reflection" not in flags_for(answer(reflection=reflection), scenario, catalogue)[0]


def test_one_concrete_habit_makes_a_reflection_specific(scenario, catalogue):
    platitude = "It taught me the value of teamwork."
    assert "generic-reflection" in flags_for(answer(reflection=platitude), scenario, catalogue)[0]
    habit = platitude + " Now I add an owner and an alarm to every queue I create."
    assert "generic-reflection" not in flags_for(answer(reflection=habit), scenario, catalogue)[0]


def test_a_learned_flag_quotes_the_sentence_it_is_about(scenario, catalogue):
    platitude = "Also, communication is really important."
    text = answer(reflection=REFLECTION + " " + platitude)
    evidence = flags_for(text, scenario, catalogue)[0]["generic-reflection"].evidence
    assert [e.quote for e in evidence] == [platitude.rstrip(".")]
    words = estimate_timing(text).words
    assert (evidence[0].start_s, evidence[0].end_s) == (words[-5].start, words[-1].end)


def test_a_user_rule_can_reuse_a_learned_model_elsewhere(tmp_path):
    (tmp_path / "platitudes.yaml").write_text(
        "rules:\n"
        "  - {id: platitude-result, category: content, kind: learned, model: generic-reflection, scope: [result],\n"
        "     severity: low, message: 'A platitude where the outcome belongs.', coaching: 'Say what changed.'}\n"
    )
    catalogue = load_catalogue([tmp_path])
    scenario = load_scenario_file(SCENARIO_FILE, catalogue.ids)
    assert (
        "platitude-result"
        in flags_for(answer(result="As a result, we all saw that teamwork is everything."), scenario, catalogue)[0]
    )
    assert "platitude-result" not in flags_for(answer(), scenario, catalogue)[0]


def test_a_feeling_in_place_of_an_outcome_is_a_vague_result(scenario, catalogue):
    result = "After the fix, the client told us it was the best launch they'd had."
    assert "vague-result" in flags_for(answer(result=RESULT + " " + result), scenario, catalogue)[0]


def test_a_fix_never_checked_is_unverified_even_unsaid(scenario, catalogue):
    unchecked = "I pulled the logs. I found the race condition. I wrote a fix with retries and shipped it."
    flags = flags_for(answer(action=unchecked), scenario, catalogue)[0]
    assert "unverified" in flags
    # Saying the check is enough; saying it was skipped is not.
    checked = unchecked + " Then I monitored the drop rate for a week."
    assert "unverified" not in flags_for(answer(action=checked), scenario, catalogue)[0]
    skipped = unchecked + " I never monitored the drop rate afterwards."
    assert "unverified" in flags_for(answer(action=skipped), scenario, catalogue)[0]


def _for(scenario, principle):
    return scenario.model_copy(update={"principle": principle})


def test_principle_specific_rules_fire_only_for_their_principle(scenario, catalogue):
    """Have Backbone without the disagreement, Frugality without a limit, Earn Trust with blame, Customer
    Obsession without a customer: each flagged for its own principle and no other."""
    cases = {
        "Have Backbone; Disagree and Commit": (
            "no-disagreement",
            answer(task="The director set a single weekend cutover and I had to make the launch work."),
            answer(task="I disagreed with the single weekend cutover and argued for two weeks of shadow mode."),
        ),
        "Frugality": (
            "no-constraint",
            answer(task="My manager wanted the retraining to be leaner, and I took it on."),
            answer(task="The budget was frozen, so I had to cut the $46,000 monthly bill without new hardware."),
        ),
        "Earn Trust": (
            "blame",
            answer(action=ACTION + " Honestly the platform team should have announced the change."),
            answer(action=ACTION + " I told them it was my miss and what I would change."),
        ),
        "Customer Obsession": (
            "no-customer",
            answer(situation="I noticed a 0.3% webhook drop rate in the payment service."),
            answer(situation="A shopper wrote in that her payment hung for a day; 0.3% of webhooks were dropped."),
        ),
    }
    for principle, (flag, weak, strong) in cases.items():
        assert flag in flags_for(weak, _for(scenario, principle), catalogue)[0], principle
        assert flag not in flags_for(strong, _for(scenario, principle), catalogue)[0], principle
        other = "Think Big"
        assert flag not in flags_for(weak, _for(scenario, other), catalogue)[0], principle
    # A customer is named with what went wrong for them; "some users were not happy" names nobody and no cost.
    unhappy = answer(situation="Some users were not happy with the payment service, and support heard about it.")
    assert "no-customer" in flags_for(unhappy, _for(scenario, "Customer Obsession"), catalogue)[0]
    # Blaming is fine when the candidate says they did not.
    fair = answer(action=ACTION + " Instead of blaming the platform team, I fixed my side first.")
    assert "blame" not in flags_for(fair, _for(scenario, "Earn Trust"), catalogue)[0]


def test_telling_another_team_is_a_handoff_only_when_no_fix_of_your_own_follows(scenario, catalogue):
    told = "I pulled the logs and found the race condition. I posted in their team's channel with the details."
    flags, _ = flags_for(answer(action=told), scenario, catalogue)
    assert "handoff" in flags
    owned = told + " Then I wrote a fix with retries and shipped the pull request."
    assert "handoff" not in flags_for(answer(action=owned), scenario, catalogue)[0]
    # A fix made by the others is a handoff whatever the candidate did besides.
    theirs = owned + " In the end their engineers fixed it on their side."
    assert "handoff" in flags_for(answer(action=theirs), scenario, catalogue)[0]


def test_a_senior_answer_without_a_reflection_names_no_systemic_cause(scenario, catalogue):
    flags, _ = flags_for(answer(reflection=""), scenario, catalogue, level="senior")
    assert "no-systemic-cause" in flags and "missing-section" in flags
    assert "no-systemic-cause" not in flags_for(answer(reflection=""), scenario, catalogue, level="sde2")[0]
