"""Both state machines, exhaustively: every transition from every state is allowed or refused
exactly as the table below says. The table is written from SPEC.md, not derived from the code.

These tests have no database access: a transition that ran a query would fail them, which is
how "no I/O inside a transition" is held.
"""

import pytest
from django_fsm import can_proceed

from dealers.models import Advisor, Dealer
from leads.models import Grade, Lead, Status

S = Status
WORKING = {S.ASSIGNED, S.FOLLOWING, S.INVITED, S.ARRIVED, S.TEST_DRIVE}

STATUS_TABLE: dict[str, tuple[set[str], str | None]] = {
    # transition: (sources, target; None when the target depends on the lead)
    "send_to_cleansing": ({S.NEW}, S.CLEANSING),
    "qualify": ({S.NEW, S.CLEANSING, S.NURTURING}, S.QUALIFIED),
    "invalidate": ({S.NEW, S.CLEANSING, S.QUALIFIED, S.NURTURING}, S.INVALID),
    "nurture": ({S.NEW, S.CLEANSING, S.QUALIFIED}, S.NURTURING),
    "archive": ({S.NURTURING}, S.ARCHIVED),
    "dispatch": ({S.QUALIFIED}, S.DISPATCHED),
    "transfer": (
        {S.DISPATCHED, S.RELEASED, S.RECALLED, *WORKING, S.DEFEAT_REQUESTED, S.SILENCED},
        S.DISPATCHED,
    ),
    "reactivate": ({S.DEFEATED, S.INVALID, S.ARCHIVED, S.RELEASED}, None),
    "assign": ({S.DISPATCHED, S.RELEASED, S.RECALLED}, S.ASSIGNED),
    "start_following": ({S.ASSIGNED}, S.FOLLOWING),
    "invite": ({S.ASSIGNED, S.FOLLOWING}, S.INVITED),
    "arrive": ({S.ASSIGNED, S.FOLLOWING, S.INVITED}, S.ARRIVED),
    "test_drive": ({S.ARRIVED}, S.TEST_DRIVE),
    "order": (WORKING, S.ORDERED),
    "request_defeat": (WORKING, S.DEFEAT_REQUESTED),
    "approve_defeat": ({S.DEFEAT_REQUESTED}, S.DEFEATED),
    "reject_defeat": ({S.DEFEAT_REQUESTED}, S.FOLLOWING),
    "silence": (WORKING, S.SILENCED),
    "unsilence": ({S.SILENCED}, None),
    "release": ({S.SILENCED}, S.RELEASED),
    "recall": ({*WORKING, S.SILENCED}, S.RECALLED),
}
TERMINAL_STATUSES = {S.ORDERED}

G = Grade
OPEN = {G.H, G.A, G.B, G.C}
GRADE_TABLE: dict[str, tuple[set[str], str | None]] = {
    "set_grade": ({G.UNRATED, *OPEN, G.N}, None),
    "grade_ordered": ({G.UNRATED, *OPEN}, G.O),
    "grade_defeated": ({G.UNRATED, *OPEN, G.N}, G.F),
    "grade_reactivated": ({G.F}, G.UNRATED),
}


def _dealer() -> Dealer:
    return Dealer(pk=7, code="D7", name="测试经销商")


def _lead(**state) -> Lead:
    """An unsaved lead in the given state, with what its conditions need."""
    dealer = _dealer()
    return Lead(
        pk=1,
        dealer=dealer,
        consent_dealer=dealer,
        advisor=Advisor(pk=3, dealer=dealer, name="顾问"),
        defeat_reason="价格原因",
        **state,
    )


def _params(name: str) -> dict:
    import datetime

    from django.utils import timezone

    now = timezone.now() + datetime.timedelta(seconds=1)
    return {
        "qualify": {"at": now},
        "dispatch": {"at": now},
        "transfer": {"dealer": Dealer(pk=8, code="D8", name="另一家"), "at": now},
        "assign": {"advisor": Advisor(pk=4, name="顾问乙"), "at": now},
        "start_following": {"at": now},
        "arrive": {"at": now},
        "order": {"at": now},
        "approve_defeat": {"at": now},
        "invalidate": {"reason": "空号"},
        "request_defeat": {"reason": "已购竞品"},
        "set_grade": {"grade": G.A},
    }.get(name, {})


STATUS_CASES = [(t, s) for t in STATUS_TABLE for s in Status.values]
GRADE_CASES = [(t, g) for t in GRADE_TABLE for g in Grade.values]


@pytest.mark.parametrize(("transition", "source"), STATUS_CASES)
def test_status_transition_allowed_exactly_from_its_sources(transition, source):
    sources, target = STATUS_TABLE[transition]
    lead = _lead(status=source, status_before_silence=S.INVITED)
    method = getattr(lead, transition)

    allowed = can_proceed(method, check_conditions=False)

    assert allowed is (source in sources)
    if allowed:
        method(**_params(transition))
        expected = target
        if transition == "unsilence":
            expected = S.INVITED
        if transition == "reactivate":
            expected = S.DISPATCHED
        assert lead.status == expected


@pytest.mark.parametrize(("transition", "source"), GRADE_CASES)
def test_grade_transition_allowed_exactly_from_its_sources(transition, source):
    sources, target = GRADE_TABLE[transition]
    lead = _lead(grade=source)
    method = getattr(lead, transition)

    allowed = can_proceed(method, check_conditions=False)

    assert allowed is (source in sources)
    if allowed:
        method(**_params(transition))
        assert lead.grade == (target if target is not None else G.A)


def test_ordered_is_terminal_in_both_machines():
    lead = _lead(status=S.ORDERED, grade=G.O)

    status_moves = [t.name for t in lead.get_available_status_transitions()]
    grade_moves = [t.name for t in lead.get_available_grade_transitions()]

    assert status_moves == []
    assert grade_moves == []


def test_defeated_can_only_be_reactivated_or_nothing_else():
    lead = _lead(status=S.DEFEATED, grade=G.F)

    assert {t.name for t in lead.get_all_status_transitions() if t.source == S.DEFEATED} == {
        "reactivate"
    }
    assert {t.name for t in lead.get_available_grade_transitions()} == {"grade_reactivated"}


def test_qualify_requires_consent_for_that_dealer():
    lead = _lead(status=S.CLEANSING)
    lead.consent_dealer = Dealer(pk=99, code="D99", name="别家")

    assert not can_proceed(lead.qualify)
    assert can_proceed(lead.qualify, check_conditions=False)


def test_dispatch_requires_consent_for_that_dealer():
    lead = _lead(status=S.QUALIFIED)
    lead.consent_dealer = None

    assert not can_proceed(lead.dispatch)


def test_approve_defeat_requires_a_reason():
    lead = _lead(status=S.DEFEAT_REQUESTED)
    lead.defeat_reason = ""

    assert not can_proceed(lead.approve_defeat)


def test_reactivate_without_dealer_returns_lead_to_hq_queue():
    lead = Lead(pk=1, status=S.INVALID, invalid_reason="空号")

    lead.reactivate()

    assert lead.status == S.CLEANSING
    assert lead.is_reactivated is True
    assert lead.invalid_reason == ""


def test_release_and_recall_take_the_lead_from_its_advisor():
    for name in ("release", "recall"):
        lead = _lead(status=S.SILENCED, status_before_silence=S.FOLLOWING)

        getattr(lead, name)()

        assert lead.advisor is None


def test_status_field_is_protected():
    lead = _lead(status=S.NEW)

    with pytest.raises(AttributeError):
        lead.status = S.DISPATCHED


def test_grade_field_is_protected():
    lead = _lead(grade=G.A)

    with pytest.raises(AttributeError):
        lead.grade = G.O
