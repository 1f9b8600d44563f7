"""The verdict: what a bar raiser would write after hearing the answer, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

from mock_interview.analysis.patterns import Flag, SectionTiming

# Points per flag; the sum places the answer on the bar raiser's scale.
POINTS = {("content", "high"): 3, ("content", "medium"): 2, ("content", "low"): 1}
STRUCTURE_POINTS = {"high": 2, "medium": 1, "low": 1}
LABELS = ((0, "Strong Hire"), (2, "Leaning Hire"), (6, "Leaning No Hire"))
NO_HIRE = "Strong No Hire"
# A strong follow-up answer earns back a point; a weak one confirms the gap it probed.
PROBE_POINTS = {"strong": -1, "mixed": 1, "weak": 2}

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


@dataclass(frozen=True)
class Verdict:
    label: str
    reasons: tuple[str, ...]
    score: int


def judge(
    flags: list[Flag],
    timings: list[SectionTiming],
    principle: str,
    signals: dict[str, list[str]],
    signal_count: int,
    probe_labels: list[tuple[str, str]] = (),
) -> Verdict:
    """Place the answer on the bar raiser's scale.

    SIGNALS are the scenario's strong phrases the candidate said; PROBE_LABELS are
    (probe question, strong|mixed|weak) for the follow-ups answered.
    """
    score = 0
    for f in flags:
        if f.category == "content":
            score += POINTS[("content", f.severity)]
        elif f.category == "structure":
            score += STRUCTURE_POINTS[f.severity]
    score = max(0, score + sum(PROBE_POINTS[label] for _, label in probe_labels))
    label = next((name for limit, name in LABELS if score <= limit), NO_HIRE)
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
    said = [phrase for phrases in signals.values() for phrase in phrases]
    if said:
        quoted = ", ".join(f"'{p}'" for p in said[:6]) + (", ..." if len(said) > 6 else "")
        reasons.append(f"Says what a strong answer says: {quoted} ({len(said)} of {signal_count} signal phrases).")
    for f in flags:
        if f.category != "content" and f.id != "missing-section":
            reasons.append(f.message)
    if probe_labels:
        tally = ", ".join(f"{sum(1 for _, lb in probe_labels if lb == k)} {k}" for k in PROBE_POINTS)
        weak = [f"“{q}”" for q, lb in probe_labels if lb == "weak"]
        reasons.append(f"Follow-up answers: {tally}" + (f"; weak on {', '.join(weak)}" if weak else "."))
    reasons.append(f"{label} for {principle}.")
    return Verdict(label, tuple(reasons), score)
