// time.h: event-time parsing and formatting: RFC 3339, epoch numbers and durations, all in UTC µs.
#pragma once

#include "runtime/expected.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// Unit of numeric (epoch) timestamps in the input.
enum class EpochUnit : uint8_t { Millis, Seconds };

/// Parses an RFC 3339 date-time with any offset (`Z`, `z`, `+01:00`, `-05:30`), an optional fraction of
/// any length (digits past the microsecond are truncated), and `T`, `t` or a space between date and time.
/// Returns microseconds since the Unix epoch (UTC), or an error saying why ("month 13 out of range").
/// Leap seconds (second 60) are rejected: event times must be totally ordered.
Expected<int64_t> parse_rfc3339(std::string_view s);

/// Converts an epoch number in `unit` to µs; fractional values are rounded to the nearest µs.
/// Errors on non-finite values and on values outside years 0000..9999.
Expected<int64_t> epoch_to_micros(double v, EpochUnit unit);
/// Exact integer variant (no rounding through double).
Expected<int64_t> epoch_to_micros(int64_t v, EpochUnit unit);

/// The first and last µs of years 0000..9999 (1970-01-01 is day 0; 0000-01-01 is day -719,528,
/// 10000-01-01 day 2,932,897): the range every time parser accepts.
inline constexpr int64_t kFirstMicros = -719528LL * 86400LL * 1000000LL;
inline constexpr int64_t kLastMicros = 2932897LL * 86400LL * 1000000LL - 1;

/// epoch_to_micros(int64_t) without the error: false where it fails. Inline for the decoders' member
/// loops (the call and the Expected cost about 40 instructions per event).
inline bool epoch_int_micros(int64_t v, EpochUnit unit, int64_t& us) {
    const int64_t mul = unit == EpochUnit::Millis ? 1000 : 1000000;
    if (v < kFirstMicros / mul || v > kLastMicros / mul) return false;
    us = v * mul;
    return true;
}

/// Parses a duration string: a non-negative integer directly followed by a unit,
/// `us`, `ms`, `s`, `m`, `h` or `d` ("250ms", "30s", "10m", "1h", "2d"). Returns µs.
Expected<int64_t> parse_duration(std::string_view s);
/// A JSON number as a duration: milliseconds (fractions allowed), rounded to µs.
Expected<int64_t> duration_from_millis(double ms);

/// Formats µs since the epoch as RFC 3339 UTC: `2026-11-29T10:00:00.250Z`, 3 fraction digits, or 6 when
/// the sub-millisecond part is non-zero.
std::string format_rfc3339(int64_t us);
/// Appends the same text to `out` (no temporary).
void append_rfc3339(std::string& out, int64_t us);
/// The longest text write_rfc3339 writes (years outside 0000-9999 take more than four digits).
inline constexpr size_t kRfc3339MaxSize = 48;
/// Writes format_rfc3339(us) to `dst` (room for kRfc3339MaxSize chars); returns its length. Thread-safe:
/// the last day's date text it keeps is per thread.
size_t write_rfc3339(char* dst, int64_t us);

/// Formats a duration for humans ("1h30m", "250ms"); used in logs and summaries.
std::string format_duration(int64_t us);

} // namespace ethogram::runtime
