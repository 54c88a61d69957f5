// value.h: typed scalar values shared by the IR (constants) and every executor (event fields, results).
#pragma once

#include <cstdint>
#include <string_view>

namespace ethogram::ir {

/// Scalar types of the rule language. Enum values are stored as their index in the enum's value list;
/// strings as ids in a StringPool; timestamps as microseconds since the Unix epoch (UTC); durations as
/// microseconds.
enum class Type : uint8_t { Missing, Bool, Int, Float, String, Enum, Timestamp, Duration };

/// Name of a type as written in the language ("int", "timestamp"...).
std::string_view type_name(Type t);

/// A tagged scalar. `Missing` is the value of an absent optional field and of undefined arithmetic
/// (division by zero); comparisons involving it are false. Trivially copyable so that events can be
/// stored flat and snapshotted with memcpy.
struct Value {
    Type type = Type::Missing;
    union {
        bool b;
        int64_t i; ///< Int, Timestamp (µs), Duration (µs), Enum (index), String (StringPool id)
        double f;
    };

    Value() : i(0) {}
    static Value missing() { return Value(); }
    static Value boolean(bool v) {
        Value x;
        x.type = Type::Bool;
        x.b = v;
        return x;
    }
    static Value integer(int64_t v) {
        Value x;
        x.type = Type::Int;
        x.i = v;
        return x;
    }
    static Value real(double v) {
        Value x;
        x.type = Type::Float;
        x.f = v;
        return x;
    }
    static Value string(uint32_t id) {
        Value x;
        x.type = Type::String;
        x.i = id;
        return x;
    }
    static Value enumeration(int64_t idx) {
        Value x;
        x.type = Type::Enum;
        x.i = idx;
        return x;
    }
    static Value timestamp(int64_t us) {
        Value x;
        x.type = Type::Timestamp;
        x.i = us;
        return x;
    }
    static Value duration(int64_t us) {
        Value x;
        x.type = Type::Duration;
        x.i = us;
        return x;
    }

    bool is_missing() const { return type == Type::Missing; }
};

constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kMicrosPerSecond = 1000 * 1000;
/// Event time +infinity: the watermark at end of input.
constexpr int64_t kTimeInfinity = INT64_MAX;
/// Event time -infinity: the watermark before any event.
constexpr int64_t kTimeMinusInfinity = INT64_MIN;

} // namespace ethogram::ir
