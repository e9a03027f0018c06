"""The lead score: the sum of the configured rules that apply, capped at 100, with a breakdown
that says which rule gave how many points (shown in the admin: "why 72 points")."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from leads.models import ScoringRule


@dataclass(frozen=True)
class ScoreInput:
    channel_weight: int
    has_name: bool
    has_city: bool
    model_named: bool
    dealer_named: bool
    consent: bool
    timeframe: str
    duplicate_count: int


def active_rules() -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(is_active=True))


def score(facts: ScoreInput, rules: list[ScoringRule]) -> tuple[int, list[dict]]:
    """Return the score and its breakdown [{"rule", "kind", "points", "detail"}]."""
    breakdown: list[dict] = []
    for rule in rules:
        points, detail = _apply(rule, facts)
        if points:
            breakdown.append(
                {
                    "kind": rule.kind,
                    "rule": str(rule.get_kind_display()),
                    "points": points,
                    "detail": detail,
                }
            )
    total = min(100, sum(item["points"] for item in breakdown))
    return total, breakdown


def _apply(rule: ScoringRule, facts: ScoreInput) -> tuple[int, str]:
    kind = ScoringRule.Kind
    match rule.kind:
        case kind.CHANNEL_WEIGHT:
            points = round(rule.points * max(0, min(100, facts.channel_weight)) / 100)
            return points, _("渠道权重 %(w)s/100") % {"w": facts.channel_weight}
        case kind.HAS_NAME:
            return (rule.points, "") if facts.has_name else (0, "")
        case kind.HAS_CITY:
            return (rule.points, "") if facts.has_city else (0, "")
        case kind.MODEL_NAMED:
            return (rule.points, "") if facts.model_named else (0, "")
        case kind.DEALER_NAMED:
            return (rule.points, "") if facts.dealer_named else (0, "")
        case kind.CONSENT:
            return (rule.points, "") if facts.consent else (0, "")
        case kind.TIMEFRAME:
            ratio = float((rule.params or {}).get(facts.timeframe, 0) or 0)
            return round(rule.points * ratio), facts.timeframe
        case kind.REPEATED:
            cap = int((rule.params or {}).get("max_times", 3) or 0)
            times = min(facts.duplicate_count, cap) if cap else facts.duplicate_count
            return rule.points * times, _("重复 %(n)s 次") % {"n": facts.duplicate_count}
    return 0, ""
