"""China's official work calendar from the chinesecalendar package, year by year."""

import datetime

import chinese_calendar


def package_days(year: int) -> list[dict] | None:
    """Every day of `year` as {date, is_workday, is_holiday, name}, or None when the package has
    no data for that year (the State Council publishes each year's schedule in the autumn)."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return None
    days = []
    day = datetime.date(year, 1, 1)
    while day.year == year:
        is_workday = chinese_calendar.is_workday(day)
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        statutory = bool(on_holiday and name)
        days.append(
            {
                "date": day,
                "is_workday": is_workday,
                "is_holiday": statutory and not is_workday,
                "name": _HOLIDAY_NAMES.get(str(name), str(name or "")) if statutory else "",
            }
        )
        day += datetime.timedelta(days=1)
    return days


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
