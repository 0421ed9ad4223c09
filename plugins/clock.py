"""Time and dates: the current time in a timezone, and date arithmetic.

Timezones are IANA names (Europe/Paris, America/New_York, UTC) from the system's zone database.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gogrid.tools.base import tool


class ClockError(ValueError):
    """An unknown timezone or an impossible date."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ClockError(f"unknown timezone {name!r}; use an IANA name such as UTC, Europe/Paris or America/New_York") from None


def describe(moment: datetime) -> dict[str, Any]:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return {
        "iso": moment.isoformat(timespec="seconds"),
        "date": moment.date().isoformat(),
        "time": moment.strftime("%H:%M:%S"),
        "weekday": moment.strftime("%A"),
        "timezone": str(moment.tzinfo),
        "utc_offset": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
    }


@tool
def current_time(timezone: str = "UTC") -> dict[str, Any]:
    """The current date and time in a timezone.

    Args:
        timezone: an IANA timezone name, e.g. UTC, Europe/Paris, Asia/Tokyo.
    """
    return describe(datetime.now(UTC).astimezone(zone(timezone)))


@tool
def add_to_date(start: date, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0) -> dict[str, Any]:
    """A date moved by a number of days, weeks, months and years (negative values go back).
    Month and year steps keep the day of the month, clamped to the month's last day.

    Args:
        start: the date to start from, YYYY-MM-DD.
        days: days to add.
        weeks: weeks to add.
        months: calendar months to add.
        years: calendar years to add.
    """
    try:
        moved = _add_months(start, months + 12 * years) + timedelta(days=days, weeks=weeks)
    except OverflowError:
        raise ClockError("the resulting date is out of range (years 1 to 9999)") from None
    return {"date": moved.isoformat(), "weekday": moved.strftime("%A")}


@tool
def days_between(start: date, end: date) -> dict[str, Any]:
    """How far apart two dates are: days, whole weeks, and weekdays (Mon-Fri) from the earlier date
    up to, not including, the later one; negative when end is before start.

    Args:
        start: the first date, YYYY-MM-DD.
        end: the second date, YYYY-MM-DD.
    """
    delta = (end - start).days
    first, span = min(start, end), abs(delta)
    full_weeks, rest = divmod(span, 7)
    weekdays = full_weeks * 5 + sum(1 for i in range(rest) if (first.weekday() + i) % 7 < 5)
    return {"days": delta, "weeks": int(delta / 7), "weekdays": weekdays if delta >= 0 else -weekdays}


def _add_months(d: date, months: int) -> date:
    if not months:
        return d
    year, month0 = divmod(d.year * 12 + (d.month - 1) + months, 12)
    if not 1 <= year <= 9999:
        raise OverflowError
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))
