"""The verdict: what a bar raiser would write after hearing the answer, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

from mock_interview.analysis.patterns import Flag, SectionTiming

# Points per flag; the sum places the answer on the bar raiser's scale.
POINTS = {("content", "high"): 3, ("content", "medium"): 2, ("content", "low"): 1}
STRUCTURE_POINTS = {"high": 2, "medium": 1, "low": 1}
LABELS = ((0, "Strong Hire"), (2, "Leaning Hire"), (6, "Leaning No Hire"))
NO_HIRE = "Not Inclined"

# What each content flag says about the candidate, in the bar raiser's words.
CONCERNS = {
    "we-language": "uses 'we', so the interviewer cannot credit the action to you",
    "no-metric": "gives no numbers for the result",
    "vague-result": "ends on a vague outcome instead of a measured one",
    "handoff": "routes the problem to others instead of owning the fix",
    "no-ownership-proof": "never says the problem was outside your scope, so it sounds like assigned work",
    "passive": "waits for someone else to act",
    "unverified": "assumes the fix worked instead of proving it",
    "generic-reflection": "closes on a generic lesson",
    "hedging": "hedges where it should state",
}
STRENGTHS = {
    "we-language": "the action is told in the first person",
    "no-metric": "the result is quantified",
    "handoff": "you owned the fix end to end",
    "no-ownership-proof": "the ownership boundary is explicit",
    "unverified": "the fix was verified",
    "generic-reflection": "the reflection is specific to the story",
}


@dataclass(frozen=True)
class Verdict:
    label: str
    reasons: tuple[str, ...]
    score: int


def judge(flags: list[Flag], timings: list[SectionTiming], principle: str, content_rule_ids: set[str]) -> Verdict:
    score = 0
    for f in flags:
        if f.category == "content":
            score += POINTS[("content", f.severity)]
        elif f.category == "structure":
            score += STRUCTURE_POINTS[f.severity]
    label = next((name for limit, name in LABELS if score <= limit), NO_HIRE)
    raised = {f.id for f in flags}
    content = [f for f in flags if f.category == "content"]
    reasons: list[str] = []
    if content:
        concerns = [CONCERNS.get(f.id, f.message.rstrip(".").lower()) for f in content]
        delivery_ok = not any(f.category == "delivery" for f in flags)
        opening = "Sounds competent but fails on content" if delivery_ok else "Fails on content"
        reasons.append(f"{opening}: {'; '.join(dict.fromkeys(concerns))}.")
    missing = [t.id.capitalize() for t in timings if t.status == "missing"]
    if missing:
        reasons.append(f"The answer never reached the {', '.join(missing)}.")
    strengths = [text for rule_id, text in STRENGTHS.items() if rule_id in content_rule_ids and rule_id not in raised]
    if strengths and len(content) < 3:
        reasons.append("Strengths: " + "; ".join(strengths) + ".")
    for f in flags:
        if f.category != "content" and f.id != "missing-section":
            reasons.append(f.message)
    reasons.append(f"{label} for {principle}.")
    return Verdict(label, tuple(reasons), score)
