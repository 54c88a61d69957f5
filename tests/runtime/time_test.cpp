// time_test.cpp: RFC 3339, epoch and duration parsing; RFC 3339 formatting.
#include "runtime/time.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ethogram::runtime {
namespace {

// Expected values were computed independently with Python's datetime.fromisoformat.
TEST(Rfc3339, UtcAndOffsets) {
    EXPECT_EQ(*parse_rfc3339("2026-11-29T10:00:00Z"), 1795946400000000);
    EXPECT_EQ(*parse_rfc3339("2026-11-29T10:00:00.250+01:00"), 1795942800250000);
    EXPECT_EQ(*parse_rfc3339("2024-02-29T23:59:59.999999-05:30"), 1709270999999999);
    EXPECT_EQ(*parse_rfc3339("2000-01-01T00:00:00Z"), 946684800000000);
    EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(*parse_rfc3339("1969-12-31T23:59:59.5Z"), -500000);
    EXPECT_EQ(*parse_rfc3339("0001-01-01T00:00:00Z"), -62135596800000000);
    EXPECT_EQ(*parse_rfc3339("9999-12-31T23:59:59Z"), 253402300799000000);
}

TEST(Rfc3339, SameInstantInDifferentOffsets) {
    auto a = parse_rfc3339("2026-03-02T08:04:21.441Z");
    auto b = parse_rfc3339("2026-03-02T00:04:21.441-08:00");
    auto c = parse_rfc3339("2026-03-02T09:04:21.441+01:00");
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(*a, *c);
}

TEST(Rfc3339, LowercaseSeparatorsAndSpace) {
    EXPECT_EQ(*parse_rfc3339("2026-11-29t10:00:00z"), 1795946400000000);
    EXPECT_EQ(*parse_rfc3339("2026-11-29 10:00:00Z"), 1795946400000000);
}

TEST(Rfc3339, FractionsAreTruncatedToMicros) {
    EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00.1Z"), 100000);
    EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00.123456789Z"), 123456);
    EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00.000001Z"), 1);
}

TEST(Rfc3339, LeapYears) {
    EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
    EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z"));  // divisible by 400
    EXPECT_FALSE(parse_rfc3339("1900-02-29T00:00:00Z")); // divisible by 100, not 400
    EXPECT_FALSE(parse_rfc3339("2026-02-29T00:00:00Z"));
    // One day after Feb 28 of a leap year is Feb 29, and Mar 1 is two days after.
    EXPECT_EQ(*parse_rfc3339("2024-03-01T00:00:00Z") - *parse_rfc3339("2024-02-28T00:00:00Z"),
              2 * 86400 * int64_t{1000000});
}

TEST(Rfc3339, BadInputsSayWhy) {
    auto m = parse_rfc3339("2026-13-01T00:00:00Z");
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().find("month 13 out of range"), std::string::npos) << m.error();
    auto d = parse_rfc3339("2026-04-31T00:00:00Z");
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().find("day 31 out of range"), std::string::npos) << d.error();
    auto h = parse_rfc3339("2026-04-01T24:00:00Z");
    ASSERT_FALSE(h);
    EXPECT_NE(h.error().find("hour 24"), std::string::npos) << h.error();
    auto o = parse_rfc3339("2026-04-01T10:00:00");
    ASSERT_FALSE(o);
    EXPECT_NE(o.error().find("offset"), std::string::npos) << o.error();
    for (const char* s : {"", "yesterday", "2026-4-01T00:00:00Z", "2026-04-01", "2026-04-01T10:00Z",
                          "2026-04-01T10:00:00.Z", "2026-04-01T10:00:00+0100", "2026-04-01T10:00:00Zjunk",
                          "2026-04-01T10:00:60Z", "2026-04-01T10:60:00Z", "2026-00-10T10:00:00Z",
                          "2026-04-00T10:00:00Z", "2026-04-01T10:00:00+24:00"})
        EXPECT_FALSE(parse_rfc3339(s)) << s;
}

// The usual timestamp is parsed with its first 16 bytes ("YYYY-MM-DDTHH:MM") kept from the last call, so
// the answer for a text must not depend on what was parsed before it. Every one-byte change of a few valid
// timestamps (and the cases above) is parsed twice: right after a valid timestamp with the same first 16
// bytes (the kept minute then matches, when that prefix is valid), and right after one of another minute;
// the value, or the error text, must be the same.
TEST(Rfc3339, AnswersDoNotDependOnThePreviousTimestamp) {
    auto answer = [](std::string_view s) {
        auto r = parse_rfc3339(s);
        return r ? fmt::format("ok {}", *r) : "error " + r.error();
    };
    std::vector<std::string> cases = {
        "2026-11-29T10:00:00Z",          "2026-11-29T10:00:00.250+01:00",  "2024-02-29T23:59:59.999999-05:30",
        "2026-03-02T08:00:48.583+00:00", "1900-02-28T00:00:00.123456789Z", "2026-02-28t10:00:00z"};
    const size_t originals = cases.size();
    for (size_t c = 0; c < originals; ++c)
        for (size_t i = 0; i < cases[c].size(); ++i)
            for (char x : std::string("09/:-.+TZ 3")) {
                std::string m = cases[c];
                m[i] = x;
                cases.push_back(m);
            }
    for (const char* s : {"2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-04-01T24:00:00Z",
                          "2026-04-01T10:00:00", "2026-04-01T10:00:60Z", "2026-04-01T10:00:00+24:00",
                          "2026-04-01T10:00:00.Z", "2026-04-01T10:00:00Zjunk", "2026-04-01T10:00:0"})
        cases.emplace_back(s);
    size_t valid = 0;
    for (const std::string& s : cases) {
        const std::string same_minute = s.size() >= 16 ? s.substr(0, 16) + ":00Z" : "2026-01-01T00:00:00Z";
        static_cast<void>(parse_rfc3339(same_minute)); // only to set the kept minute
        const std::string warm = answer(s);
        static_cast<void>(parse_rfc3339("1999-12-31T23:59:00Z"));
        const std::string cold = answer(s);
        EXPECT_EQ(warm, cold) << s << " after " << same_minute;
        valid += cold.rfind("ok ", 0) == 0;
    }
    EXPECT_GT(valid, 100u);             // many one-byte changes still parse (digits for digits)
    EXPECT_LT(valid, cases.size() / 2); // and most do not
}

// A thread's first timestamp meets the kept minute's initial state: text of NUL bytes (a JSON string may
// hold them, escaped) is still refused, and the epoch's first minute (the initial entry) parses as itself.
TEST(Rfc3339, FirstCallOfAThreadTakesNothingForADate) {
    std::string nul_error, epoch;
    std::thread([&] {
        auto r = parse_rfc3339(std::string(16, '\0') + ":00Z");
        nul_error = r ? "accepted" : r.error();
        auto e = parse_rfc3339("1970-01-01T00:00:07.5Z");
        epoch = e ? fmt::format("{}", *e) : e.error();
    }).join();
    EXPECT_NE(nul_error, "accepted");
    EXPECT_EQ(epoch, "7500000");
}

TEST(Epoch, MillisAndSeconds) {
    EXPECT_EQ(*epoch_to_micros(int64_t{1772438672468}, EpochUnit::Millis), 1772438672468000);
    EXPECT_EQ(*epoch_to_micros(int64_t{1772438672}, EpochUnit::Seconds), 1772438672000000);
    EXPECT_EQ(*epoch_to_micros(1772438672.5, EpochUnit::Seconds), 1772438672500000);
    EXPECT_EQ(*epoch_to_micros(1.5, EpochUnit::Millis), 1500);
    EXPECT_FALSE(epoch_to_micros(int64_t{INT64_MAX}, EpochUnit::Millis));
    EXPECT_FALSE(epoch_to_micros(1e300, EpochUnit::Seconds));
}

// The inline range (kFirstMicros..kLastMicros, written as day numbers) is years 0000..9999 as the
// RFC 3339 parser counts them, and epoch_int_micros accepts exactly what epoch_to_micros does.
TEST(Epoch, InlineRangeIsYears0000To9999) {
    EXPECT_EQ(*parse_rfc3339("0000-01-01T00:00:00Z"), kFirstMicros);
    EXPECT_EQ(*parse_rfc3339("9999-12-31T23:59:59.999999Z"), kLastMicros);
    for (EpochUnit unit : {EpochUnit::Millis, EpochUnit::Seconds}) {
        const int64_t mul = unit == EpochUnit::Millis ? 1000 : 1000000;
        for (int64_t edge : {kFirstMicros / mul, kLastMicros / mul, int64_t{0}, INT64_MIN, INT64_MAX}) {
            for (int64_t d : {int64_t{-1}, int64_t{0}, int64_t{1}}) {
                if ((d < 0 && edge == INT64_MIN) || (d > 0 && edge == INT64_MAX)) continue;
                const int64_t v = edge + d;
                int64_t us = -1;
                const bool ok = epoch_int_micros(v, unit, us);
                const Expected<int64_t> e = epoch_to_micros(v, unit);
                ASSERT_EQ(ok, static_cast<bool>(e)) << v;
                if (ok) {
                    EXPECT_EQ(us, *e);
                    EXPECT_GE(us, kFirstMicros);
                    EXPECT_LE(us, kLastMicros);
                }
            }
        }
    }
}

TEST(Duration, Units) {
    EXPECT_EQ(*parse_duration("250ms"), 250000);
    EXPECT_EQ(*parse_duration("30s"), 30000000);
    EXPECT_EQ(*parse_duration("10m"), 600000000);
    EXPECT_EQ(*parse_duration("1h"), 3600000000);
    EXPECT_EQ(*parse_duration("2d"), 172800000000);
    EXPECT_EQ(*parse_duration("7us"), 7);
    EXPECT_EQ(*parse_duration("0s"), 0);
}

TEST(Duration, BadInputs) {
    for (const char* s : {"", "s", "10", "-5s", "5 s", "1.5s", "5x", "10sec", "99999999999999999999d"})
        EXPECT_FALSE(parse_duration(s)) << s;
    EXPECT_NE(parse_duration("5x").error().find("unknown unit"), std::string::npos);
    EXPECT_NE(parse_duration("10").error().find("missing unit"), std::string::npos);
}

TEST(Duration, JsonMillis) {
    EXPECT_EQ(*duration_from_millis(250), 250000);
    EXPECT_EQ(*duration_from_millis(0.5), 500);
    EXPECT_FALSE(duration_from_millis(-1));
}

TEST(Format, ThreeOrSixFractionDigits) {
    EXPECT_EQ(format_rfc3339(1795946400250000), "2026-11-29T10:00:00.250Z");
    EXPECT_EQ(format_rfc3339(1795946400000000), "2026-11-29T10:00:00.000Z");
    EXPECT_EQ(format_rfc3339(1795946400000001), "2026-11-29T10:00:00.000001Z");
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339(-500000), "1969-12-31T23:59:59.500Z");
    EXPECT_EQ(format_rfc3339(1709270999999999), "2024-03-01T05:29:59.999999Z");
}

TEST(Format, RoundTrip) {
    for (const char* s :
         {"2024-02-29T12:34:56.789Z", "1999-12-31T23:59:59.000001Z", "0001-01-01T00:00:00.000Z"})
        EXPECT_EQ(format_rfc3339(*parse_rfc3339(s)), s);
}

TEST(Format, EdgesOfTheDigitPathAndBeyond) {
    // Years 0000..9999 are written digit by digit; outside them through fmt (same text as before).
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("0000-01-01T00:00:00Z")), "0000-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("9999-12-31T23:59:59.999999Z")), "9999-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("9999-12-31T23:59:59.999999Z") + 1), "10000-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("0000-01-01T00:00:00Z") - 1000), "-001-12-31T23:59:59.999Z");
}

TEST(Format, DigitPathMatchesFmtOnManyInstants) {
    // The reference: the fmt formatting append_rfc3339 used before its digit-by-digit fast path.
    auto reference = [](int64_t us) {
        const int64_t day = 86400000000;
        int64_t days = us / day, rem = us % day;
        if (rem < 0) {
            rem += day;
            --days;
        }
        // civil_from_days, as in time.cpp (Howard Hinnant's algorithm).
        int64_t z = days + 719468;
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const auto doe = static_cast<unsigned>(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        const unsigned d = doy - (153 * mp + 2) / 5 + 1;
        const unsigned m = mp < 10 ? mp + 3 : mp - 9;
        const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
        int64_t secs = rem / 1000000, frac = rem % 1000000;
        std::string s = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, secs / 3600,
                                    secs / 60 % 60, secs % 60);
        s += frac % 1000 == 0 ? fmt::format(".{:03}Z", frac / 1000) : fmt::format(".{:06}Z", frac);
        return s;
    };
    std::mt19937_64 rng(7);
    const int64_t lo = *parse_rfc3339("0000-01-01T00:00:00Z"), hi = *parse_rfc3339("9999-12-31T23:59:59Z");
    std::uniform_int_distribution<int64_t> any(lo, hi);
    for (int i = 0; i < 20000; ++i) {
        int64_t us = any(rng);
        if (i % 2) us -= us % 1000; // half of them on whole milliseconds (3 fraction digits)
        ASSERT_EQ(format_rfc3339(us), reference(us)) << us;
    }
}

TEST(Format, Durations) {
    EXPECT_EQ(format_duration(0), "0s");
    EXPECT_EQ(format_duration(5400000000), "1h30m");
    EXPECT_EQ(format_duration(250000), "250ms");
}

} // namespace
} // namespace ethogram::runtime
