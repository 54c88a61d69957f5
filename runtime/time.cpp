// time.cpp: RFC 3339 / epoch / duration parsing and RFC 3339 formatting.
#include "runtime/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

namespace ethogram::runtime {

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
    int64_t y;
    unsigned m, d;
};

Civil civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

bool is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`; false when any is not a digit.
bool read_digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
    if (pos + n > s.size()) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

Error bad(std::string_view s, std::string_view why) {
    return Error{fmt::format("bad timestamp \"{}\": {}", s, why)};
}

// Timestamps are limited to years 0000..9999 (what RFC 3339 can write).
const int64_t kMinTime = kFirstMicros;
const int64_t kMaxTime = kLastMicros;

} // namespace

namespace {

// The digits of a fraction of a second from s[pos] on, as microseconds: the first six digits (fewer:
// scaled up); the rest are read and truncated. Moves pos past them (not at all when s[pos] is no digit).
int64_t fraction_micros(std::string_view s, size_t& pos) {
    static constexpr int64_t kScale[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    int64_t frac = 0;
    size_t kept = 0;
    for (unsigned d = 0; pos < s.size() && (d = static_cast<unsigned char>(s[pos]) - '0') <= 9; ++pos) {
        if (kept < 6) {
            frac = frac * 10 + d;
            ++kept;
        }
    }
    return frac * kScale[kept];
}

// Two ASCII digits at p into v; false when either is not a digit.
inline bool two_digits(const char* p, unsigned& v) {
    const unsigned a = static_cast<unsigned char>(p[0]) - '0', b = static_cast<unsigned char>(p[1]) - '0';
    v = a * 10 + b;
    return a <= 9 && b <= 9;
}

// The usual timestamp, "YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)" with every field in range, in one pass
// at fixed positions; false for anything else (then the general parser decides, with its error text).
// Consecutive timestamps of a stream mostly share their first 16 bytes ("YYYY-MM-DDTHH:MM"): those bytes
// and the seconds they stand for are kept from the last call (per thread), and compared as two words
// instead of parsed and checked again. 252 instructions a call before, about 150 now when the minute repeats
// (callgrind, a loop over two timestamps of one minute).
bool parse_rfc3339_fast(std::string_view s, int64_t& out) {
    const size_t n = s.size();
    if (n < 20 || s[16] != ':') return false;
    const char* p = s.data();
    struct Minute {
        uint64_t w0 = 0, w1 = 0; // the 16 bytes
        int64_t secs = 0;        // their time: seconds since the epoch, UTC before the offset
    };
    // Starts as a true entry, the epoch's first minute, so that no text matches an entry it was not
    // parsed for (an all-zero start would take 16 NUL bytes, which a JSON string may hold, for a date).
    thread_local Minute last = [] {
        Minute m;
        std::memcpy(&m.w0, "1970-01-01T00:00", 8);
        std::memcpy(&m.w1, "1970-01-01T00:00" + 8, 8);
        return m;
    }();
    uint64_t w0 = 0, w1 = 0;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    if (w0 != last.w0 || w1 != last.w1) {
        if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':') return false;
        unsigned y1 = 0, y2 = 0, mon = 0, day = 0, hh = 0, mm = 0;
        if (!two_digits(p, y1) || !two_digits(p + 2, y2) || !two_digits(p + 5, mon) ||
            !two_digits(p + 8, day) || !two_digits(p + 11, hh) || !two_digits(p + 14, mm))
            return false;
        const unsigned year = y1 * 100 + y2;
        if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59)
            return false;
        last.w0 = w0;
        last.w1 = w1;
        last.secs = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60;
    }
    unsigned ss = 0;
    if (!two_digits(p + 17, ss) || ss > 59) return false;
    size_t pos = 19;
    int64_t frac_us = 0;
    if (p[pos] == '.') {
        const size_t start = ++pos;
        frac_us = fraction_micros(s, pos);
        if (pos == start || pos >= n) return false;
    }
    int64_t offset_min = 0;
    const char c = p[pos];
    if (c == 'Z' && pos + 1 == n) {
        // UTC
    } else if ((c == '+' || c == '-') && pos + 6 == n && p[pos + 3] == ':') {
        unsigned oh = 0, om = 0;
        if (!two_digits(p + pos + 1, oh) || !two_digits(p + pos + 4, om) || oh > 23 || om > 59) return false;
        offset_min = (c == '+' ? 1 : -1) * static_cast<int64_t>(oh * 60 + om);
    } else {
        return false;
    }
    out = (last.secs + ss - offset_min * 60) * kMicrosPerSecond + frac_us;
    return true;
}

// Every timestamp parse_rfc3339_fast declines, with the error text of each malformed one. Out of line, so
// that the usual timestamp does not pay for this frame.
[[gnu::noinline]] Expected<int64_t> parse_rfc3339_general(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.f+](Z|(+|-)HH:MM)
    unsigned year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
    if (s.empty()) return bad(s, "empty string");
    if (!read_digits(s, 0, 4, year) || s.size() < 5 || s[4] != '-')
        return bad(s, "expected YYYY-MM-DD at the start");
    if (!read_digits(s, 5, 2, mon) || s.size() < 8 || s[7] != '-' || !read_digits(s, 8, 2, day))
        return bad(s, "expected YYYY-MM-DD at the start");
    if (s.size() < 11 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return bad(s, "expected 'T' and a time after the date");
    if (!read_digits(s, 11, 2, hh) || s.size() < 14 || s[13] != ':' || !read_digits(s, 14, 2, mm) ||
        s.size() < 17 || s[16] != ':' || !read_digits(s, 17, 2, ss))
        return bad(s, "expected HH:MM:SS after 'T'");
    if (mon < 1 || mon > 12) return bad(s, fmt::format("month {} out of range 1..12", mon));
    if (day < 1 || day > days_in_month(year, mon))
        return bad(s, fmt::format("day {} out of range for {:04}-{:02} (1..{})", day, year, mon,
                                  days_in_month(year, mon)));
    if (hh > 23) return bad(s, fmt::format("hour {} out of range 0..23", hh));
    if (mm > 59) return bad(s, fmt::format("minute {} out of range 0..59", mm));
    if (ss == 60) return bad(s, "second 60 (leap second) is not supported");
    if (ss > 59) return bad(s, fmt::format("second {} out of range 0..59", ss));

    size_t pos = 19;
    int64_t frac_us = 0;
    if (pos < s.size() && s[pos] == '.') {
        const size_t start = ++pos;
        frac_us = fraction_micros(s, pos);
        if (pos == start) return bad(s, "expected digits after '.'");
    }
    if (pos >= s.size()) return bad(s, "missing UTC offset (Z or +HH:MM)");
    int64_t offset_min = 0;
    char c = s[pos];
    if (c == 'Z' || c == 'z') {
        ++pos;
    } else if (c == '+' || c == '-') {
        unsigned oh = 0, om = 0;
        if (!read_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !read_digits(s, pos + 4, 2, om))
            return bad(s, "expected offset as +HH:MM or -HH:MM");
        if (oh > 23) return bad(s, fmt::format("offset hour {} out of range 0..23", oh));
        if (om > 59) return bad(s, fmt::format("offset minute {} out of range 0..59", om));
        offset_min = (c == '+' ? 1 : -1) * static_cast<int64_t>(oh * 60 + om);
        pos += 6;
    } else {
        return bad(s, fmt::format("unexpected '{}' where the UTC offset (Z or +HH:MM) should be", c));
    }
    if (pos != s.size()) return bad(s, "trailing characters after the UTC offset");

    int64_t days = days_from_civil(year, mon, day);
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_min * 60;
    return secs * kMicrosPerSecond + frac_us;
}

} // namespace

Expected<int64_t> parse_rfc3339(std::string_view s) {
    if (int64_t t = 0; parse_rfc3339_fast(s, t)) return t;
    return parse_rfc3339_general(s);
}

Expected<int64_t> epoch_to_micros(double v, EpochUnit unit) {
    if (!std::isfinite(v)) return Error{"epoch time is not a finite number"};
    double us = std::round(v * (unit == EpochUnit::Millis ? 1e3 : 1e6));
    if (us < static_cast<double>(kMinTime) || us > static_cast<double>(kMaxTime))
        return Error{fmt::format("epoch time {} {} is outside years 0000..9999", v,
                                 unit == EpochUnit::Millis ? "ms" : "s")};
    return static_cast<int64_t>(us);
}

Expected<int64_t> epoch_to_micros(int64_t v, EpochUnit unit) {
    int64_t us = 0;
    if (!epoch_int_micros(v, unit, us))
        return Error{fmt::format("epoch time {} {} is outside years 0000..9999", v,
                                 unit == EpochUnit::Millis ? "ms" : "s")};
    return us;
}

Expected<int64_t> parse_duration(std::string_view s) {
    size_t i = 0;
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (n > (std::numeric_limits<int64_t>::max() - 9) / 10)
            return Error{fmt::format("bad duration \"{}\": too large", s)};
        n = n * 10 + (s[i] - '0');
        ++i;
    }
    if (i == 0)
        return Error{fmt::format("bad duration \"{}\": expected a non-negative integer and a unit "
                                 "(us, ms, s, m, h, d), e.g. \"30s\"",
                                 s)};
    std::string_view unit = s.substr(i);
    int64_t mul = 0;
    if (unit == "us")
        mul = 1;
    else if (unit == "ms")
        mul = 1000;
    else if (unit == "s")
        mul = kMicrosPerSecond;
    else if (unit == "m")
        mul = 60 * kMicrosPerSecond;
    else if (unit == "h")
        mul = 3600 * kMicrosPerSecond;
    else if (unit == "d")
        mul = kMicrosPerDay;
    else if (unit.empty())
        return Error{fmt::format("bad duration \"{}\": missing unit (us, ms, s, m, h, d)", s)};
    else
        return Error{fmt::format("bad duration \"{}\": unknown unit \"{}\" (us, ms, s, m, h, d)", s, unit)};
    if (n > std::numeric_limits<int64_t>::max() / mul)
        return Error{fmt::format("bad duration \"{}\": too large", s)};
    return n * mul;
}

Expected<int64_t> duration_from_millis(double ms) {
    if (!std::isfinite(ms)) return Error{"duration is not a finite number"};
    if (ms < 0) return Error{fmt::format("duration {} ms is negative", ms)};
    double us = std::round(ms * 1e3);
    if (us >= 9.2e18) return Error{fmt::format("duration {} ms is too large", ms)};
    return static_cast<int64_t>(us);
}

namespace {

// "00" to "99": two digits per table read instead of a division per digit.
constexpr auto kTwoDigits = [] {
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i) {
        t[static_cast<size_t>(2 * i)] = static_cast<char>('0' + i / 10);
        t[static_cast<size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
    }
    return t;
}();

void put2(char* p, int64_t v) {
    std::memcpy(p, &kTwoDigits[static_cast<size_t>(2 * v)], 2);
}

} // namespace

size_t write_rfc3339(char* dst, int64_t us) {
    int64_t days = us / kMicrosPerDay;
    int64_t rem = us % kMicrosPerDay;
    if (rem < 0) { // floor division for times before 1970
        rem += kMicrosPerDay;
        --days;
    }
    const int64_t secs = rem / kMicrosPerSecond;
    const int64_t frac = rem % kMicrosPerSecond;
    // The date part ("YYYY-MM-DDT") of the day last written on this thread: a detection lists event times
    // that mostly share their day, and the civil date was a third of the cost of a time stamp. Years
    // 0000 to 9999 only; the others go through fmt below.
    thread_local int64_t cached_day = INT64_MIN;
    thread_local char cached_date[11];
    if (days != cached_day) {
        const Civil c = civil_from_days(days);
        if (c.y < 0 || c.y > 9999) {
            auto r =
                frac % 1000 == 0
                    ? fmt::format_to_n(dst, kRfc3339MaxSize, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                                       c.y, c.m, c.d, secs / 3600, secs / 60 % 60, secs % 60, frac / 1000)
                    : fmt::format_to_n(dst, kRfc3339MaxSize, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                                       c.y, c.m, c.d, secs / 3600, secs / 60 % 60, secs % 60, frac);
            return std::min(r.size, kRfc3339MaxSize);
        }
        put2(cached_date, c.y / 100);
        put2(cached_date + 2, c.y % 100);
        cached_date[4] = '-';
        put2(cached_date + 5, c.m);
        cached_date[7] = '-';
        put2(cached_date + 8, c.d);
        cached_date[10] = 'T';
        cached_day = days;
    }
    std::memcpy(dst, cached_date, sizeof cached_date);
    put2(dst + 11, secs / 3600);
    dst[13] = ':';
    put2(dst + 14, secs / 60 % 60);
    dst[16] = ':';
    put2(dst + 17, secs % 60);
    dst[19] = '.';
    size_t n = 20;
    if (frac % 1000 == 0) { // whole milliseconds: three digits
        const int64_t ms = frac / 1000;
        dst[20] = static_cast<char>('0' + ms / 100);
        put2(dst + 21, ms % 100);
        n = 23;
    } else {
        dst[20] = static_cast<char>('0' + frac / 100000);
        put2(dst + 21, frac / 1000 % 100);
        put2(dst + 23, frac / 10 % 100);
        dst[25] = static_cast<char>('0' + frac % 10);
        n = 26;
    }
    dst[n++] = 'Z';
    return n;
}

void append_rfc3339(std::string& out, int64_t us) {
    char buf[kRfc3339MaxSize];
    out.append(buf, write_rfc3339(buf, us));
}

std::string format_rfc3339(int64_t us) {
    std::string s;
    append_rfc3339(s, us);
    return s;
}

std::string format_duration(int64_t us) {
    if (us == 0) return "0s";
    std::string out;
    if (us < 0) {
        out = "-";
        us = -us;
    }
    struct Unit {
        int64_t us;
        const char* name;
    };
    static constexpr Unit kUnits[] = {{kMicrosPerDay, "d"},
                                      {3600 * kMicrosPerSecond, "h"},
                                      {60 * kMicrosPerSecond, "m"},
                                      {kMicrosPerSecond, "s"},
                                      {1000, "ms"},
                                      {1, "us"}};
    for (const auto& u : kUnits) {
        if (us >= u.us) {
            out += fmt::format("{}{}", us / u.us, u.name);
            us %= u.us;
        }
    }
    return out;
}

} // namespace ethogram::runtime
