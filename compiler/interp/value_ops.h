// value_ops.h: comparison and arithmetic on ir::Value, with the missing-value rules of docs/language.md.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <optional>

namespace ethogram::interp {

/// True for Int and Float.
bool is_number(const ir::Value& v);
/// Int, Float, Timestamp, Duration as a double (0 for anything else).
double as_double(const ir::Value& v);

/// Equality of two present values: numbers by value (int 1 == float 1.0), strings by pool id (every
/// string is interned), everything else by type and payload. False when either is missing.
bool values_equal(const ir::Value& a, const ir::Value& b);

/// Three-way order of two present, comparable values (<0, 0, >0); nullopt when either is missing or the
/// types do not compare. Strings order by content (StringPool::view), enums by index, bools false<true.
std::optional<int> compare_values(const ir::Value& a, const ir::Value& b, const ir::StringPool& pool);

/// Applies a comparison op (Eq .. Ge): false when either side is missing.
bool apply_comparison(ir::Op op, const ir::Value& a, const ir::Value& b, const ir::StringPool& pool);

/// Applies an arithmetic op (Add .. Mod). Missing in, missing out; division or modulo by zero is
/// missing. int op int is int (truncating division, wrapping on overflow); any float makes float;
/// timestamp - timestamp = duration, timestamp ± duration = timestamp, duration ± duration = duration,
/// duration * number = duration (rounded to the nearest µs), duration / duration = float,
/// duration / number = duration.
ir::Value apply_arithmetic(ir::Op op, const ir::Value& a, const ir::Value& b);

/// Saturating a + b for event times (deadlines never overflow to the past). Inline: sessions, windows and
/// patterns compute deadlines with it on every event.
inline int64_t saturating_add(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

} // namespace ethogram::interp
