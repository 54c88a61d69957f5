// aggregates.cpp: aggregates and behavioural features. Each evaluation collects the elements once and
// scans them, into scratch buffers reused across evaluations (no allocation per evaluation once warm).
#include "compiler/interp/aggregates.h"

#include "compiler/interp/aggregate_fold.h"
#include "compiler/interp/exact_sum.h"
#include "compiler/interp/value_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

namespace ethogram::interp {

using ir::AggKind;
using ir::Type;
using ir::Value;

namespace {

/// Scratch vectors reused across evaluations: an aggregate is evaluated many times per event, and a fresh
/// vector per evaluation was the largest allocation cost of threshold rules. A stack, because an
/// aggregate's filter or value may itself contain an aggregate (nested evaluation).
template <class T>
class Scratch {
public:
    Scratch() {
        auto& pool = free_list();
        if (pool.empty()) return;
        v_ = std::move(pool.back());
        pool.pop_back();
        v_.clear();
    }
    ~Scratch() { free_list().push_back(std::move(v_)); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    std::vector<T>& operator*() { return v_; }
    std::vector<T>* operator->() { return &v_; }

private:
    static std::vector<std::vector<T>>& free_list() {
        thread_local std::vector<std::vector<T>> pool;
        return pool;
    }
    std::vector<T> v_;
};

/// Calls `fn` on each element of an aggregate, in time order: source events of the right types that
/// pass the filter.
template <class Fn>
void for_each_element(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval, Fn&& fn) {
    if (agg.source == ir::AggSource::Scope) {
        if (ctx.scope)
            for (size_t i = ctx.scope_from, n = ctx.scope->size(); i < n; ++i) {
                const StoredEvent* p = (*ctx.scope)[i].get();
                if (is_element(agg, p, ctx, eval)) fn(p);
            }
    } else if (ctx.steps) {
        for (const StoredEvent* p : ctx.steps->step(agg.step))
            if (is_element(agg, p, ctx, eval)) fn(p);
    }
}

/// The elements of an aggregate, into `out`.
void elements(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval,
              std::vector<const StoredEvent*>& out) {
    for_each_element(agg, ctx, eval, [&](const StoredEvent* se) { out.push_back(se); });
}

/// The elements' present values.
void values_of(const ir::Aggregate& agg, const std::vector<const StoredEvent*>& elems, const EvalContext& ctx,
               ExprEvaluator& eval, std::vector<Value>& out) {
    out.reserve(elems.size());
    for (const StoredEvent* se : elems) {
        const Value v = element_value(agg, se, ctx, eval);
        if (!v.is_missing()) out.push_back(v);
    }
}

bool is_time(Type t) {
    return t == Type::Duration || t == Type::Timestamp;
}

/// Whether a kept avg's mean is a duration or timestamp (else a float): its declared type's.
bool kept_avg_time(const ir::Aggregate& agg) {
    return is_time(agg.type);
}

/// The values' sum: as doubles, exactly, rounded once (exact_sum.h), when any value or the result is a
/// float (`exact`, when given, receives that sum: a kept sum is kept again from it); else the ints or
/// durations in their own type.
Value sum(const std::vector<Value>& vs, Type result, ExactSum* exact = nullptr) {
    if (vs.empty()) return zero_of(result);
    bool any_float = result == Type::Float;
    for (const Value& v : vs) any_float = any_float || v.type == Type::Float;
    if (any_float) {
        ExactSum local;
        ExactSum& s = exact ? *exact : local;
        for (const Value& v : vs) s.add(as_double(v));
        return Value::real(s.value());
    }
    Value acc = zero_of(vs.front().type == Type::Duration ? Type::Duration : Type::Int);
    for (const Value& v : vs) {
        Value x = v;
        x.type = acc.type; // ints and durations add as their µs / integer payloads
        acc = apply_arithmetic(ir::Op::Add, acc, x);
    }
    return acc;
}

/// `sum` over `n` values (n > 0) as a mean of type `t`'s kind: a duration's or timestamp's rounded to the
/// microsecond, else a float.
Value mean_of(double sum, int64_t n, Type t) {
    const double mean = sum / static_cast<double>(n);
    if (!is_time(t)) return Value::real(mean);
    Value r;
    r.type = t;
    r.i = std::llround(mean);
    return r;
}

/// The mean: the values' exact sum as doubles, rounded once, over their number, of the first value's kind.
Value average(const std::vector<Value>& vs, ExactSum* exact = nullptr) {
    if (vs.empty()) return Value::missing();
    ExactSum local;
    ExactSum& s = exact ? *exact : local;
    for (const Value& v : vs) s.add(as_double(v));
    return mean_of(s.value(), static_cast<int64_t>(vs.size()), vs.front().type);
}

Value extreme(const std::vector<Value>& vs, bool want_max, const ir::StringPool& pool) {
    Value best;
    for (const Value& v : vs) {
        if (best.is_missing()) {
            best = v;
            continue;
        }
        auto c = compare_values(v, best, pool);
        if (c && (want_max ? *c > 0 : *c < 0)) best = v;
    }
    return best;
}

/// The values' keys, sorted (the order std::map / std::set would visit them in).
void sorted_keys(const std::vector<Value>& vs, std::vector<ValueKey>& keys) {
    keys.reserve(vs.size());
    for (const Value& v : vs) keys.push_back(key_of(v));
    std::sort(keys.begin(), keys.end());
}

Value entropy(const std::vector<Value>& vs) {
    if (vs.empty()) return Value::real(0.0);
    Scratch<ValueKey> keys;
    sorted_keys(vs, *keys);
    // Frequencies visited in key order, as the std::map this replaced did: the same sum, bit for bit.
    double n = static_cast<double>(vs.size()), h = 0;
    for (size_t i = 0; i < keys->size();) {
        size_t j = i;
        while (j < keys->size() && (*keys)[j] == (*keys)[i]) ++j;
        double p = static_cast<double>(j - i) / n;
        h -= p * std::log2(p);
        i = j;
    }
    return Value::real(h);
}

// The returns to a value seen before: position k counts when its value differs from the one before it and
// its key occurred at some earlier position. Which positions had their key earlier comes from the (key,
// position) pairs sorted: every pair but the first of its key. In scratch vectors, not a std::set (a node
// allocated per distinct value, on every evaluation: 43,450 allocations on the e-commerce example x50).
int64_t backtracks(const std::vector<Value>& vs) {
    Scratch<std::pair<ValueKey, size_t>> order_scratch;
    std::vector<std::pair<ValueKey, size_t>>& order = *order_scratch;
    for (size_t k = 0; k < vs.size(); ++k) order.emplace_back(key_of(vs[k]), k);
    std::sort(order.begin(), order.end());
    Scratch<uint8_t> earlier_scratch;
    std::vector<uint8_t>& earlier = *earlier_scratch; // per position: its key occurred before it
    earlier.assign(vs.size(), 0);
    for (size_t i = 1; i < order.size(); ++i)
        if (order[i].first == order[i - 1].first) earlier[order[i].second] = 1;
    int64_t n = 0;
    for (size_t k = 1; k < vs.size(); ++k)
        if (earlier[k] && !values_equal(vs[k], vs[k - 1])) ++n;
    return n;
}

int64_t transitions(const std::vector<Value>& vs) {
    int64_t n = 0;
    for (size_t k = 1; k < vs.size(); ++k)
        if (!values_equal(vs[k], vs[k - 1])) ++n;
    return n;
}

/// Inter-event gap features over the element times.
Value gap_feature(AggKind kind, const std::vector<const StoredEvent*>& elems) {
    Scratch<int64_t> scratch;
    std::vector<int64_t>& gaps = *scratch;
    for (size_t k = 1; k < elems.size(); ++k) gaps.push_back(elems[k]->ev.time - elems[k - 1]->ev.time);
    const size_t m = gaps.size();
    double mean = 0, sd = 0;
    if (m > 0) {
        for (int64_t g : gaps) mean += static_cast<double>(g);
        mean /= static_cast<double>(m);
        for (int64_t g : gaps) sd += (static_cast<double>(g) - mean) * (static_cast<double>(g) - mean);
        sd = std::sqrt(sd / static_cast<double>(m));
    }
    switch (kind) {
    case AggKind::Burstiness:
        if (m < 2 || sd + mean == 0.0) return Value::real(0.0);
        return Value::real((sd - mean) / (sd + mean));
    case AggKind::GapMean: return m == 0 ? Value::missing() : Value::duration(std::llround(mean));
    case AggKind::GapStd: return m == 0 ? Value::missing() : Value::duration(std::llround(sd));
    case AggKind::GapMin:
    case AggKind::GapMax: {
        if (m == 0) return Value::missing();
        int64_t best = gaps.front();
        for (int64_t g : gaps) best = kind == AggKind::GapMin ? std::min(best, g) : std::max(best, g);
        return Value::duration(best);
    }
    default: return Value::missing();
    }
}

/// The aggregate rescanned over its elements (a stale kept float sum, `kept`, is kept again).
Value rescan(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval, int64_t* kept) {
    if (agg.kind == AggKind::Count) {
        int64_t n = 0;
        for_each_element(agg, ctx, eval, [&](const StoredEvent*) { ++n; });
        return Value::integer(n);
    }
    Scratch<const StoredEvent*> elems;
    elements(agg, ctx, eval, *elems);
    switch (agg.kind) {
    case AggKind::Burstiness:
    case AggKind::GapMean:
    case AggKind::GapStd:
    case AggKind::GapMin:
    case AggKind::GapMax: return gap_feature(agg.kind, *elems);
    default: break;
    }
    Scratch<Value> scratch;
    std::vector<Value>& vs = *scratch;
    values_of(agg, *elems, ctx, eval, vs);
    switch (agg.kind) {
    case AggKind::Sum: {
        if (!kept) return sum(vs, agg.type);
        ExactSum exact;
        const Value s = sum(vs, agg.type, &exact);
        kept_sum::store(kept, exact); // a stale kept sum: kept again from here when its partials fit
        return s;
    }
    case AggKind::Avg: {
        if (!kept) return average(vs);
        ExactSum exact;
        const Value m = average(vs, &exact);
        kept[kept_sum::kWords] = static_cast<int64_t>(vs.size());
        // Kept again only when every value gives the kept mean's type (keep() marks it stale otherwise).
        bool alike = true;
        for (const Value& v : vs) alike = alike && kept_avg_time(agg) == is_time(v.type);
        if (alike)
            kept_sum::store(kept, exact);
        else
            kept[1] = 1;
        return m;
    }
    case AggKind::Min: return extreme(vs, false, eval.pool());
    case AggKind::Max: return extreme(vs, true, eval.pool());
    case AggKind::Distinct: {
        Scratch<ValueKey> keys;
        sorted_keys(vs, *keys);
        return Value::integer(static_cast<int64_t>(std::unique(keys->begin(), keys->end()) - keys->begin()));
    }
    case AggKind::First: return vs.empty() ? Value::missing() : vs.front();
    case AggKind::Last: return vs.empty() ? Value::missing() : vs.back();
    case AggKind::DwellTime: return sum(vs, Type::Duration);
    case AggKind::Entropy: return entropy(vs);
    case AggKind::Backtracks: return Value::integer(backtracks(vs));
    case AggKind::BacktrackRate:
        if (vs.size() < 2) return Value::real(0.0);
        return Value::real(static_cast<double>(backtracks(vs)) / static_cast<double>(vs.size() - 1));
    case AggKind::Transitions: return Value::integer(transitions(vs));
    default: return Value::missing();
    }
}

} // namespace

Value eval_aggregate(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval) {
    // A shared threshold scope keeps some counts and float sums as it goes (engine.h ScopeGroup::kept).
    int64_t* kept = nullptr;
    if (ctx.scope_counts && agg.source == ir::AggSource::Scope) {
        const uint32_t w = eval.scope_word(agg);
        if (w != ExprEvaluator::kNoWord) {
            kept = ctx.scope_counts + w;
            if (agg.kind == AggKind::Count) return Value::integer(kept[0]);
            if (kept[1] == 0) {
                double s;
                std::memcpy(&s, kept, sizeof s);
                if (agg.kind != AggKind::Avg) return Value::real(s);
                // average(): the exact sum over the number of values, of the declared kind.
                const int64_t n = kept[kept_sum::kWords];
                return n == 0 ? Value::missing() : mean_of(s, n, agg.type);
            }
        }
    }
    // Several rules of one scope often test the same feature on one event (and an emit repeats its
    // condition's aggregate): while the memo is open, alike aggregates over an unchanged scope share one
    // rescan (ExprEvaluator::open_memo).
    ExprEvaluator::AggMemo* memo = ctx.steps ? nullptr : eval.memo_of(agg);
    if (memo && memo->epoch == eval.memo_epoch() && memo->scope == ctx.scope &&
        memo->from == ctx.scope_from && memo->session == ctx.session && memo->current == ctx.current) {
        // A stale kept sum stays stale here: alike aggregates share its words, so the rescan that filled
        // the memo kept it again when its partials fit.
        return memo->value;
    }
    // A session's events only grow at the back: an aggregate over a long one continues where the last
    // evaluation stopped (the walk over the whole session on every event made a long session quadratic:
    // docs/performance.md, "Long sessions").
    Fold* fold = nullptr;
    if (!kept && ctx.session && ctx.scope == &ctx.session->events && ctx.scope_from == 0 &&
        ctx.scope->size() >= ExprEvaluator::kFoldFrom)
        fold = eval.fold_of(agg, *ctx.session);
    const Value v = fold ? fold_session(agg, ctx, eval, *fold) : rescan(agg, ctx, eval, kept);
    if (memo) *memo = {eval.memo_epoch(), ctx.scope, ctx.scope_from, ctx.session, ctx.current, v};
    return v;
}

} // namespace ethogram::interp
