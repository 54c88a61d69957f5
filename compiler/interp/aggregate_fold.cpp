// aggregate_fold.cpp: an aggregate over a long session as a left fold that the next evaluation continues:
// the rescan's accumulators for each kind, kept between evaluations in the session's events (state.h Fold).
#include "compiler/interp/aggregate_fold.h"

#include "compiler/interp/value_ops.h"

#include <cmath>
#include <memory>

namespace ethogram::interp {

using ir::AggKind;
using ir::Type;
using ir::Value;

namespace {

bool counts_values(AggKind k) {
    return k == AggKind::Distinct || k == AggKind::Entropy || k == AggKind::Backtracks ||
           k == AggKind::BacktrackRate;
}

/// The kinds over the elements' times (no value).
bool over_gaps(AggKind k) {
    return k == AggKind::GapMean || k == AggKind::GapMin || k == AggKind::GapMax;
}

/// Adds `se`, the next event of a session, to fold state `f` when it is an element: one step of the
/// rescan's loop for the aggregate's kind (`keys`: the value counts of the kinds that keep them).
void fold_in(const ir::Aggregate& agg, const StoredEvent* se, const EvalContext& ctx, ExprEvaluator& eval,
             FoldState& f, FoldKeys* keys) {
    if (!is_element(agg, se, ctx, eval)) return;
    const AggKind kind = agg.kind;
    if (kind == AggKind::Count) {
        ++f.count;
        return;
    }
    if (over_gaps(kind)) {
        const int64_t t = se->ev.time;
        if (f.count > 0) {
            const int64_t g = t - f.last_time;
            if (kind == AggKind::GapMean)
                f.sum += static_cast<double>(g);
            else if (f.count == 1 || (kind == AggKind::GapMin ? g < f.acc.i : g > f.acc.i))
                f.acc = Value::duration(g);
        }
        f.last_time = t;
        ++f.count;
        return;
    }
    const Value v = element_value(agg, se, ctx, eval);
    if (v.is_missing()) return;
    switch (kind) {
    case AggKind::Sum:
    case AggKind::DwellTime:
        // sum(): the doubles always (used when any value or the result is a float), the ints or durations
        // in their own type until a float turns up.
        if (f.count++ == 0) f.acc = zero_of(v.type == Type::Duration ? Type::Duration : Type::Int);
        f.exact.add(as_double(v));
        if (v.type == Type::Float) {
            f.any_float = true;
        } else if (!f.any_float) {
            Value x = v;
            x.type = f.acc.type;
            f.acc = apply_arithmetic(ir::Op::Add, f.acc, x);
        }
        return;
    case AggKind::Avg:
        if (f.count++ == 0) f.first = v.type;
        f.exact.add(as_double(v));
        return;
    case AggKind::Min:
    case AggKind::Max: {
        if (f.acc.is_missing()) {
            f.acc = v;
            return;
        }
        const auto c = compare_values(v, f.acc, eval.pool());
        if (c && (kind == AggKind::Max ? *c > 0 : *c < 0)) f.acc = v;
        return;
    }
    case AggKind::First:
        if (f.acc.is_missing()) f.acc = v;
        return;
    case AggKind::Last: f.acc = v; return;
    case AggKind::Transitions:
        if (!f.acc.is_missing() && !values_equal(v, f.acc)) ++f.hits;
        f.acc = v;
        return;
    case AggKind::Distinct:
    case AggKind::Entropy:
        ++(*keys)[key_of(v)];
        ++f.count;
        return;
    case AggKind::Backtracks:
    case AggKind::BacktrackRate: {
        // A return: the value's key was seen before, and the value differs from the one before it.
        auto [it, fresh] = keys->try_emplace(key_of(v), 0);
        ++it->second;
        if (!fresh && !values_equal(v, f.acc)) ++f.hits;
        f.acc = v;
        ++f.count;
        return;
    }
    default: return;
    }
}

/// Takes `se`, the oldest of the events folded, out of fold state `f` when that is exact: false when the
/// fold must be done again from the first event instead.
bool fold_out(const ir::Aggregate& agg, const StoredEvent* se, ExprEvaluator& eval, FoldState& f,
              FoldKeys* keys) {
    const EvalContext ctx; // the filter and value read only the element
    if (!is_element(agg, se, ctx, eval)) return true;
    const AggKind kind = agg.kind;
    if (kind == AggKind::Count) {
        --f.count;
        return true;
    }
    if (over_gaps(kind)) return false;
    const Value v = element_value(agg, se, ctx, eval);
    if (v.is_missing()) return true;
    switch (kind) {
    case AggKind::Distinct:
    case AggKind::Entropy: {
        if (!keys) return false;
        const auto it = keys->find(key_of(v));
        if (it == keys->end()) return false;
        if (--it->second == 0) keys->erase(it);
        --f.count;
        return true;
    }
    case AggKind::Sum:
    case AggKind::DwellTime:
        // The exact sum less the value is the rescan's without it, and so is the int or duration sum less
        // it (ints wrap: a subtraction undoes an addition). A float leaving an int-typed sum may have been
        // its only one (the rescan would then add the ints in their type): folded again.
        if (v.type == Type::Float && agg.type != Type::Float) return false;
        f.exact.remove(as_double(v));
        --f.count;
        if (v.type != Type::Float && !f.any_float) {
            Value x = v;
            x.type = f.acc.type;
            f.acc = apply_arithmetic(ir::Op::Sub, f.acc, x);
        }
        return true;
    case AggKind::Avg:
        if (v.type != f.first) return false; // the mean's type is the first value's
        f.exact.remove(as_double(v));
        --f.count;
        return true;
    case AggKind::Min:
    case AggKind::Max: {
        // Not the best (strictly worse): the best stays. An equal value may differ in type or bits from
        // the one the rescan would keep next, so it is folded again.
        const auto c = compare_values(v, f.acc, eval.pool());
        return c && (kind == AggKind::Max ? *c < 0 : *c > 0);
    }
    default: return false;
    }
}

/// The aggregate's value from its fold state: what rescan() returns over the same elements.
Value fold_result(const ir::Aggregate& agg, const FoldState& f, const FoldKeys* keys) {
    switch (agg.kind) {
    case AggKind::Count: return Value::integer(f.count);
    case AggKind::Sum:
    case AggKind::DwellTime: {
        const Type result = agg.kind == AggKind::Sum ? agg.type : Type::Duration;
        if (f.count == 0) return zero_of(result);
        return f.any_float || result == Type::Float ? Value::real(f.exact.value()) : f.acc;
    }
    case AggKind::Avg: {
        if (f.count == 0) return Value::missing();
        const double mean = f.exact.value() / static_cast<double>(f.count);
        if (f.first == Type::Duration || f.first == Type::Timestamp) {
            Value r;
            r.type = f.first;
            r.i = std::llround(mean);
            return r;
        }
        return Value::real(mean);
    }
    case AggKind::Min:
    case AggKind::Max:
    case AggKind::First:
    case AggKind::Last: return f.acc;
    case AggKind::Transitions:
    case AggKind::Backtracks: return Value::integer(f.hits);
    case AggKind::BacktrackRate:
        if (f.count < 2) return Value::real(0.0);
        return Value::real(static_cast<double>(f.hits) / static_cast<double>(f.count - 1));
    case AggKind::Distinct: return Value::integer(keys ? static_cast<int64_t>(keys->size()) : 0);
    case AggKind::Entropy: {
        if (f.count == 0 || !keys) return Value::real(0.0);
        // entropy(): the frequencies in key order, the same sum bit for bit.
        const double n = static_cast<double>(f.count);
        double h = 0;
        for (const auto& [key, c] : *keys) {
            const double p = static_cast<double>(c) / n;
            h -= p * std::log2(p);
        }
        return Value::real(h);
    }
    case AggKind::GapMean:
        if (f.count < 2) return Value::missing();
        return Value::duration(std::llround(f.sum / static_cast<double>(f.count - 1)));
    case AggKind::GapMin:
    case AggKind::GapMax: return f.count < 2 ? Value::missing() : f.acc;
    default: return Value::missing();
    }
}

} // namespace

/// A foldable aggregate over a session's events (ctx.scope, non-empty) continued from fold `f` when it
/// still holds a prefix of them, else folded from the first event. Exact because the aggregate's filter
/// and value read only the element (ExprEvaluator::fold_of), whose fields never change once its dwell is
/// known: an aggregate that reads the dwell keeps in `f` only the events whose dwell is known (all but the
/// key's latest), and adds the rest to a copy.
Value fold_session(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval, Fold& f) {
    const EventBuffer& s = *ctx.scope;
    const size_t size = s.size();
    if (!f.holds_prefix_of(s)) {
        f.n = 0;
        f.state = FoldState{};
        if (f.keys) f.keys->clear();
    }
    if (!f.keys && counts_values(agg.kind)) f.keys = std::make_unique<FoldKeys>();
    const bool known_dwell = eval.foldable(agg) == ExprEvaluator::Foldable::KnownDwell;
    size_t i = f.n;
    for (; i < size && (!known_dwell || s[i]->ev.has_dwell); ++i)
        fold_in(agg, s[i].get(), ctx, eval, f.state, f.keys.get());
    f.n = static_cast<uint32_t>(i);
    if (i != 0) f.last_ord = s[i - 1]->ord;
    if (i == size) return fold_result(agg, f.state, f.keys.get());
    FoldState tail = f.state; // never a kind with value counts (fold_kind)
    for (; i < size; ++i) fold_in(agg, s[i].get(), ctx, eval, tail, nullptr);
    return fold_result(agg, tail, nullptr);
}

void fold_out_front(ExprEvaluator& eval, const SessionEvents& events) {
    SessionFolds* folds = events.existing_folds();
    if (!folds || events.empty()) return;
    const StoredEvent* front = events.front().get();
    const auto& aggs = eval.ruleset().aggregates;
    for (Fold& f : *folds) {
        if (!f.holds_prefix_of(events)) continue; // folded again from the start anyway
        if (f.n == 1 || !fold_out(aggs[f.agg], front, eval, f.state, f.keys.get())) {
            f.n = 0;
            continue;
        }
        --f.n;
    }
}

} // namespace ethogram::interp
