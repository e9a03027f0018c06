"""Dealer hours against China's work calendar (调休 included), moved in time explicitly."""

import datetime

import pytest
from django.utils import timezone

from dealers.calendar import (
    ADJUSTED_WORKDAY,
    HOLIDAY,
    WEEKEND,
    WORKDAY,
    CalendarMissing,
    WorkCalendar,
    dealer_hours,
)
from dealers.models import DealerClosure, DispatchWindow, WorkCalendarDay
from tests.factories import DealerFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def at(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args), TZ)


@pytest.fixture
def dealer():
    """Mon–Fri 08:30–20:00, Saturday 09:00–18:00, closed Sunday and on holidays."""
    dealer = DealerFactory(windows=False)
    for day in range(5):
        DispatchWindow.objects.create(
            dealer=dealer, weekday=day, opens_at=datetime.time(8, 30), closes_at=datetime.time(20)
        )
    DispatchWindow.objects.create(
        dealer=dealer, weekday=5, opens_at=datetime.time(9), closes_at=datetime.time(18)
    )
    return dealer


def test_day_kinds_follow_the_official_calendar():
    calendar = WorkCalendar()

    assert calendar.kind(datetime.date(2026, 11, 25)) == WORKDAY
    assert calendar.kind(datetime.date(2026, 11, 28)) == WEEKEND
    assert calendar.kind(datetime.date(2026, 10, 1)) == HOLIDAY
    assert calendar.kind(datetime.date(2026, 9, 20)) == ADJUSTED_WORKDAY  # 国庆调休 Sunday


def test_lead_left_at_two_in_the_morning_goes_at_the_window_opening(dealer):
    hours = dealer_hours(dealer)

    assert hours.next_opening(at(2026, 11, 25, 2, 0)) == at(2026, 11, 25, 8, 30)


def test_inside_the_window_the_opening_is_now(dealer):
    hours = dealer_hours(dealer)
    now = at(2026, 11, 25, 10, 15)

    assert hours.is_open(now) and hours.next_opening(now) == now


def test_after_closing_on_friday_the_next_opening_is_saturday_morning(dealer):
    assert dealer_hours(dealer).next_opening(at(2026, 11, 27, 20, 0)) == at(2026, 11, 28, 9, 0)


def test_saturday_evening_waits_for_monday_when_sunday_is_closed(dealer):
    assert dealer_hours(dealer).next_opening(at(2026, 11, 28, 19, 0)) == at(2026, 11, 30, 8, 30)


def test_national_day_holiday_is_closed_and_the_adjusted_workday_opens(dealer):
    hours = dealer_hours(dealer)

    assert not hours.is_open(at(2026, 10, 2, 10, 0))
    assert hours.next_opening(at(2026, 10, 2, 10, 0)) == at(2026, 10, 8, 8, 30)
    assert hours.is_open(at(2026, 9, 20, 10, 0))  # Sunday worked (调休): Monday's window


def test_holiday_windows_apply_on_holidays_when_the_dealer_has_them(dealer):
    DispatchWindow.objects.create(
        dealer=dealer, weekday=7, opens_at=datetime.time(10), closes_at=datetime.time(16)
    )

    assert dealer_hours(dealer).next_opening(at(2026, 10, 2, 8, 0)) == at(2026, 10, 2, 10, 0)


def test_a_closure_closes_the_dealer_for_those_days(dealer):
    DealerClosure.objects.create(
        dealer=dealer,
        start_date=datetime.date(2026, 11, 25),
        end_date=datetime.date(2026, 11, 26),
        reason="盘点",
    )

    hours = dealer_hours(dealer)

    assert not hours.is_open(at(2026, 11, 25, 10, 0))
    assert hours.next_opening(at(2026, 11, 25, 10, 0)) == at(2026, 11, 27, 8, 30)


def test_a_dealer_without_windows_never_opens():
    assert dealer_hours(DealerFactory(windows=False)).next_opening(at(2026, 11, 25, 9, 0)) is None


def test_a_year_missing_from_the_calendar_is_refused_not_guessed(dealer):
    with pytest.raises(CalendarMissing) as error:
        dealer_hours(dealer).next_opening(at(2026, 12, 31, 21, 0))

    assert "2027" in str(error.value)


def test_an_incomplete_year_is_refused(dealer):
    WorkCalendarDay.objects.filter(date=datetime.date(2026, 3, 3)).delete()

    with pytest.raises(CalendarMissing) as error:
        WorkCalendar().kind(datetime.date(2026, 5, 5))

    assert "2026-03-03" in str(error.value)
