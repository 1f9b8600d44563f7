"""Follow-up answers in the candidate's own words, judged against the probe's weak and strong answers."""

from __future__ import annotations

import pytest

from mock_interview.analysis.transcript import estimate_timing
from mock_interview.analyze import judge_probe

# Answers nobody wrote into the scenario: what a candidate might actually say.
OWN_WORDS = [
    ("verify-fix", "strong", "Before touching the code I reproduced the dropped webhooks in a local test, then after "
     "the deploy I monitored the production error dashboard for a week and the drop rate stayed at zero."),
    ("verify-fix", "weak", "I assumed it was fine because nobody complained after the change went out."),
    ("follow-through", "strong", "I brought the Platform tech lead a complete fix with tests and a rollout plan, and I "
     "stayed on the deployment with them so it shipped that week."),
    ("follow-through", "weak", "I sent a Slack message to their channel and they handled it from there."),
    ("do-differently", "weak", "I would communicate better with other teams."),
    ("why-investigate", "weak", "Honestly I thought someone else would pick it up, so I waited a bit."),
]  # fmt: skip


@pytest.mark.parametrize(("probe_id", "quality", "answer"), OWN_WORDS)
def test_answers_in_own_words(probe_id, quality, answer, scenario, catalogue):
    probe = next(p for p in scenario.probes if p.id == probe_id)
    judged = judge_probe(probe, estimate_timing(answer), catalogue, scenario.principle, "sde2")
    if quality == "strong":
        assert judged.label == "strong", judged.reasons
        assert not judged.flags
    else:
        assert judged.label == "weak", judged.reasons
        assert any(probe.key_quote in r for r in judged.reasons)  # the coaching shows what strong sounds like


def test_a_thin_answer_is_never_strong(scenario, catalogue):
    probe = next(p for p in scenario.probes if p.id == "verify-fix")
    judged = judge_probe(probe, estimate_timing("I monitored it."), catalogue, scenario.principle, "sde2")
    assert judged.label != "strong"
