"""Business hours: China's work calendar and each dealer's dispatch windows, in one module.

A day is a workday, a weekend day, a statutory holiday, or an adjusted workday (调休, a weekend
day worked). Windows are kept per weekday; statutory holidays use the dealer's holiday windows
(weekday 7; none = closed) and adjusted workdays use the Monday windows. Closures close a
dealer whole days. All times are local (Asia/Shanghai)."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ValidationFailed
from dealers.models import Dealer, DealerClosure, DispatchWindow, WorkCalendarDay

WORKDAY, WEEKEND, HOLIDAY, ADJUSTED_WORKDAY = "workday", "weekend", "holiday", "adjusted_workday"
HORIZON_DAYS = 21


class CalendarMissing(ValidationFailed):
    code = "calendar_missing"


class WorkCalendar:
    """Day kinds, read a year at a time and remembered for the life of this object."""

    def __init__(self):
        self._years: dict[int, dict[date, tuple[bool, bool]]] = {}

    def kind(self, day: date) -> str:
        year = self._years.get(day.year)
        if year is None:
            year = self._load(day.year)
        is_workday, is_holiday = year[day]
        weekend = day.weekday() >= 5
        if is_workday:
            return ADJUSTED_WORKDAY if weekend else WORKDAY
        if is_holiday:
            return HOLIDAY
        return WEEKEND if weekend else HOLIDAY

    def _load(self, year: int) -> dict[date, tuple[bool, bool]]:
        rows = WorkCalendarDay.objects.filter(date__year=year).values_list(
            "date", "is_workday", "is_holiday"
        )
        days = {row[0]: (row[1], row[2]) for row in rows}
        if not days:
            raise CalendarMissing(
                _(
                    "工作日历缺少 %(year)s 年的数据，无法判断派发时段；请在后台“工作日历”中维护，"
                    "或运行 python manage.py calendar_seed %(year)s。"
                ),
                year=year,
            )
        if len(days) < (366 if _leap(year) else 365):
            start = date(year, 1, 1)
            missing = next(
                start + timedelta(days=i)
                for i in range(366)
                if (start + timedelta(days=i)) not in days
            )
            raise CalendarMissing(
                _("工作日历 %(year)s 年不完整（缺少 %(day)s），无法判断派发时段。"),
                year=year,
                day=missing.isoformat(),
            )
        self._years[year] = days
        return days


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def window_weekday(kind: str, day: date) -> int:
    if kind == HOLIDAY:
        return DispatchWindow.Weekday.HOLIDAY
    if kind == ADJUSTED_WORKDAY:
        return DispatchWindow.Weekday.MONDAY
    return day.weekday()


class DealerHours:
    """When one dealer may receive leads."""

    def __init__(self, dealer: Dealer, windows, closures, calendar: WorkCalendar):
        self.dealer = dealer
        self.windows: dict[int, list[tuple[time, time]]] = {}
        for window in windows:
            self.windows.setdefault(window.weekday, []).append((window.opens_at, window.closes_at))
        for spans in self.windows.values():
            spans.sort()
        self.closures = [(c.start_date, c.end_date) for c in closures]
        self.calendar = calendar

    def openings(self, day: date) -> list[tuple[datetime, datetime]]:
        if any(start <= day <= end for start, end in self.closures):
            return []
        weekday = window_weekday(self.calendar.kind(day), day)
        tz = timezone.get_current_timezone()
        return [
            (
                timezone.make_aware(datetime.combine(day, opens), tz),
                timezone.make_aware(datetime.combine(day, closes), tz),
            )
            for opens, closes in self.windows.get(weekday, [])
        ]

    def is_open(self, at: datetime) -> bool:
        local = timezone.localtime(at)
        return any(start <= local < end for start, end in self.openings(local.date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the start of the next window within the horizon."""
        local = timezone.localtime(at)
        for offset in range(HORIZON_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            for start, end in self.openings(day):
                if start <= local < end:
                    return at
                if start > local:
                    return start
        return None


def dealer_hours(dealer: Dealer, calendar: WorkCalendar | None = None) -> DealerHours:
    return DealerHours(
        dealer,
        DispatchWindow.objects.filter(dealer=dealer),
        DealerClosure.objects.filter(dealer=dealer, end_date__gte=timezone.localdate()),
        calendar or WorkCalendar(),
    )


class HoursBook:
    """DealerHours for many dealers, loaded once each (sweeps, list pages)."""

    def __init__(self, calendar: WorkCalendar | None = None):
        self.calendar = calendar or WorkCalendar()
        self._hours: dict[int, DealerHours] = {}

    def preload(self, dealers) -> None:
        dealers = [d for d in dealers if d.pk not in self._hours]
        if not dealers:
            return
        ids = [d.pk for d in dealers]
        windows: dict[int, list] = {}
        for window in DispatchWindow.objects.filter(dealer_id__in=ids):
            windows.setdefault(window.dealer_id, []).append(window)
        closures: dict[int, list] = {}
        for closure in DealerClosure.objects.filter(
            dealer_id__in=ids, end_date__gte=timezone.localdate() - timedelta(days=1)
        ):
            closures.setdefault(closure.dealer_id, []).append(closure)
        for dealer in dealers:
            self._hours[dealer.pk] = DealerHours(
                dealer, windows.get(dealer.pk, []), closures.get(dealer.pk, []), self.calendar
            )

    def for_dealer(self, dealer: Dealer) -> DealerHours:
        if dealer.pk not in self._hours:
            self.preload([dealer])
        return self._hours[dealer.pk]
