"""time.*: calendar fields of Unix timestamps in Olson time zones (UTC if the zone is blank)."""
from __future__ import annotations

import datetime as dt
import functools
import math

from ..errors import PFARuntimeError
from . import fn

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
TS_MIN, TS_MAX = -62135596800, 253402300799


@functools.lru_cache(maxsize=128)
def _zone(name: str):
    if name == "":
        return dt.timezone.utc
    import zoneinfo
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _local(ts, zone, base, fname, zone_code=None, range_code=None):
    if not (math.isfinite(ts) and TS_MIN <= ts <= TS_MAX):
        raise PFARuntimeError("timestamp out of range", range_code or base + 1, fname)
    z = _zone(zone)
    if z is None:
        raise PFARuntimeError("unrecognized timezone string", zone_code or base, fname)
    try:
        return (_EPOCH + dt.timedelta(seconds=ts)).astimezone(z)
    except OverflowError:
        raise PFARuntimeError("timestamp out of range", range_code or base + 1, fname) from None


def _field(name, base, get):
    fname = "time." + name

    def f(ts, zone):
        return get(_local(ts, zone, base, fname))
    fn(fname)(f)


_field("year", 40000, lambda d: d.year)
_field("monthOfYear", 40010, lambda d: d.month)
_field("dayOfYear", 40020, lambda d: d.timetuple().tm_yday)
_field("dayOfMonth", 40030, lambda d: d.day)
_field("dayOfWeek", 40040, lambda d: d.weekday())
_field("hourOfDay", 40050, lambda d: d.hour)
_field("minuteOfHour", 40060, lambda d: d.minute)
_field("secondOfMinute", 40070, lambda d: d.second)
_field("isWeekend", 40160, lambda d: d.weekday() >= 5)
_field("isWorkHours", 40170, lambda d: d.weekday() < 5 and 9 <= d.hour < 17)


def _is(name, base, get):
    fname = "time." + name

    def f(ts, zone, low, high):
        if low >= high:
            raise PFARuntimeError("bad time range", base, fname)
        d = _local(ts, zone, base, fname, base + 1, base + 2)
        return low <= get(d) < high
    fn(fname)(f)


_is("isSecondOfMinute", 40090, lambda d: d.second + d.microsecond / 1e6)
_is("isMinuteOfHour", 40100, lambda d: d.minute + (d.second + d.microsecond / 1e6) / 60.0)
_is("isHourOfDay", 40110, lambda d: d.hour + (d.minute + d.second / 60.0) / 60.0)
_is("isDayOfWeek", 40120, lambda d: d.weekday() + (d.hour + d.minute / 60.0) / 24.0)
_is("isDayOfMonth", 40130, lambda d: d.day + (d.hour + d.minute / 60.0) / 24.0)
_is("isMonthOfYear", 40140, lambda d: d.month)
_is("isDayOfYear", 40150, lambda d: d.timetuple().tm_yday + (d.hour + d.minute / 60.0) / 24.0)


@fn("time.makeTimestamp")
def make_timestamp(year, month, day, hour, minute, second, millisecond, zone):
    fname = "time.makeTimestamp"
    z = _zone(zone)
    if z is None:
        raise PFARuntimeError("unrecognized timezone string", 40080, fname)
    try:
        d = dt.datetime(year, month, day, hour, minute, second, millisecond * 1000, tzinfo=z)
    except (ValueError, OverflowError):
        raise PFARuntimeError("timestamp undefined for given parameters", 40081, fname) from None
    return (d - _EPOCH).total_seconds()
