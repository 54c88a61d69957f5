// value_ops.cpp: comparison and arithmetic on ir::Value.
#include "compiler/interp/value_ops.h"

#include <cmath>
#include <limits>

namespace ethogram::interp {

using ir::Op;
using ir::Type;
using ir::Value;

namespace {

// Wrapping int64 arithmetic: signed overflow is undefined behaviour in C++, so go through uint64.
int64_t wrap_add(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrap_sub(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t wrap_mul(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// Integer division and modulo; the caller has excluded b == 0. INT64_MIN / -1 wraps.
int64_t int_div(int64_t a, int64_t b) {
    return (b == -1) ? wrap_sub(0, a) : a / b;
}
int64_t int_mod(int64_t a, int64_t b) {
    return (b == -1) ? 0 : a % b;
}

// A float number of microseconds as a duration or timestamp payload: nearest µs, missing when it does
// not fit.
Value micros(Type t, double us) {
    if (!std::isfinite(us) || us >= 9.2e18 || us <= -9.2e18) return Value::missing();
    Value v;
    v.type = t;
    v.i = std::llround(us);
    return v;
}

Value with_type(Type t, int64_t payload) {
    Value v;
    v.type = t;
    v.i = payload;
    return v;
}

Value numeric(Op op, const Value& a, const Value& b) {
    if (a.type == Type::Int && b.type == Type::Int) {
        switch (op) {
        case Op::Add: return Value::integer(wrap_add(a.i, b.i));
        case Op::Sub: return Value::integer(wrap_sub(a.i, b.i));
        case Op::Mul: return Value::integer(wrap_mul(a.i, b.i));
        case Op::Div: return b.i == 0 ? Value::missing() : Value::integer(int_div(a.i, b.i));
        case Op::Mod: return b.i == 0 ? Value::missing() : Value::integer(int_mod(a.i, b.i));
        default: return Value::missing();
        }
    }
    double x = as_double(a), y = as_double(b);
    switch (op) {
    case Op::Add: return Value::real(x + y);
    case Op::Sub: return Value::real(x - y);
    case Op::Mul: return Value::real(x * y);
    case Op::Div: return y == 0.0 ? Value::missing() : Value::real(x / y);
    case Op::Mod: return y == 0.0 ? Value::missing() : Value::real(std::fmod(x, y));
    default: return Value::missing();
    }
}

// Duration (a) with a plain number (b) for * and /; `swapped` when the number was on the left.
Value duration_by_number(Op op, const Value& d, const Value& n, bool swapped) {
    if (op == Op::Mul) {
        if (n.type == Type::Int) return Value::duration(wrap_mul(d.i, n.i));
        return micros(Type::Duration, static_cast<double>(d.i) * n.f);
    }
    if (op == Op::Div && !swapped) {
        if (n.type == Type::Int) return n.i == 0 ? Value::missing() : Value::duration(int_div(d.i, n.i));
        return n.f == 0.0 ? Value::missing() : micros(Type::Duration, static_cast<double>(d.i) / n.f);
    }
    return Value::missing();
}

Value temporal(Op op, const Value& a, const Value& b) {
    const Type ta = a.type, tb = b.type;
    const bool a_ts = ta == Type::Timestamp, b_ts = tb == Type::Timestamp;
    const bool a_d = ta == Type::Duration, b_d = tb == Type::Duration;
    switch (op) {
    case Op::Add:
        if (a_ts && b_d) return with_type(Type::Timestamp, wrap_add(a.i, b.i));
        if (a_d && b_ts) return with_type(Type::Timestamp, wrap_add(a.i, b.i));
        if (a_d && b_d) return Value::duration(wrap_add(a.i, b.i));
        return Value::missing();
    case Op::Sub:
        if (a_ts && b_ts) return Value::duration(wrap_sub(a.i, b.i));
        if (a_ts && b_d) return with_type(Type::Timestamp, wrap_sub(a.i, b.i));
        if (a_d && b_d) return Value::duration(wrap_sub(a.i, b.i));
        return Value::missing();
    case Op::Mul:
        if (a_d && is_number(b)) return duration_by_number(op, a, b, false);
        if (b_d && is_number(a)) return duration_by_number(op, b, a, true);
        return Value::missing();
    case Op::Div:
        if (a_d && b_d) {
            if (b.i == 0) return Value::missing();
            return Value::real(static_cast<double>(a.i) / static_cast<double>(b.i));
        }
        if (a_d && is_number(b)) return duration_by_number(op, a, b, false);
        return Value::missing();
    case Op::Mod:
        if (a_d && b_d) return b.i == 0 ? Value::missing() : Value::duration(int_mod(a.i, b.i));
        return Value::missing();
    default: return Value::missing();
    }
}

} // namespace

bool is_number(const Value& v) {
    return v.type == Type::Int || v.type == Type::Float;
}

double as_double(const Value& v) {
    switch (v.type) {
    case Type::Float: return v.f;
    case Type::Int:
    case Type::Timestamp:
    case Type::Duration: return static_cast<double>(v.i);
    default: return 0.0;
    }
}

bool values_equal(const Value& a, const Value& b) {
    if (a.is_missing() || b.is_missing()) return false;
    if (is_number(a) && is_number(b)) {
        if (a.type == Type::Int && b.type == Type::Int) return a.i == b.i;
        return as_double(a) == as_double(b);
    }
    if (a.type != b.type) return false;
    if (a.type == Type::Bool) return a.b == b.b;
    if (a.type == Type::Float) return a.f == b.f;
    return a.i == b.i;
}

std::optional<int> compare_values(const Value& a, const Value& b, const ir::StringPool& pool) {
    if (a.is_missing() || b.is_missing()) return std::nullopt;
    auto three = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
    if (is_number(a) && is_number(b)) {
        if (a.type == Type::Int && b.type == Type::Int) return three(a.i, b.i);
        double x = as_double(a), y = as_double(b);
        if (std::isnan(x) || std::isnan(y)) return std::nullopt;
        return three(x, y);
    }
    if (a.type != b.type) return std::nullopt;
    switch (a.type) {
    case Type::Bool: return three(a.b, b.b);
    case Type::String:
        if (a.i == b.i) return 0;
        return three(pool.view(static_cast<uint32_t>(a.i)), pool.view(static_cast<uint32_t>(b.i)));
    case Type::Enum:
    case Type::Timestamp:
    case Type::Duration: return three(a.i, b.i);
    default: return std::nullopt;
    }
}

bool apply_comparison(Op op, const Value& a, const Value& b, const ir::StringPool& pool) {
    if (a.is_missing() || b.is_missing()) return false;
    if (op == Op::Eq) return values_equal(a, b);
    if (op == Op::Ne) return !values_equal(a, b);
    auto c = compare_values(a, b, pool);
    if (!c) return false;
    switch (op) {
    case Op::Lt: return *c < 0;
    case Op::Le: return *c <= 0;
    case Op::Gt: return *c > 0;
    case Op::Ge: return *c >= 0;
    default: return false;
    }
}

Value apply_arithmetic(Op op, const Value& a, const Value& b) {
    if (a.is_missing() || b.is_missing()) return Value::missing();
    if (is_number(a) && is_number(b)) return numeric(op, a, b);
    return temporal(op, a, b);
}

} // namespace ethogram::interp
