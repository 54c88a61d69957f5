// aggregates.cpp: aggregates and behavioural features. Each evaluation collects the elements once and
// scans them: clarity first (the JIT executor is where incremental aggregates belong).
#include "compiler/interp/aggregates.h"

#include "compiler/interp/value_ops.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace ethogram::interp {

using ir::AggKind;
using ir::Type;
using ir::Value;

namespace {

/// A value as an ordered key for distinct / entropy / backtracks (equal values, equal keys).
using ValueKey = std::pair<uint8_t, int64_t>;

ValueKey key_of(const Value& v) {
    int64_t payload = 0;
    if (v.type == Type::Bool) {
        payload = v.b ? 1 : 0;
    } else if (v.type == Type::Float) {
        double f = v.f == 0.0 ? 0.0 : v.f; // -0.0 == 0.0
        std::memcpy(&payload, &f, sizeof payload);
    } else {
        payload = v.i;
    }
    return {static_cast<uint8_t>(v.type), payload};
}

/// The elements of an aggregate: source events of the right types that pass the filter.
std::vector<const StoredEvent*> elements(const ir::Aggregate& agg, const EvalContext& ctx,
                                         ExprEvaluator& eval) {
    std::vector<const StoredEvent*> out;
    auto consider = [&](const StoredEvent* se) {
        if (!agg.types.empty()) {
            bool ok = false;
            for (uint16_t t : agg.types) ok = ok || t == se->ev.type;
            if (!ok) return;
        }
        if (agg.filter != ir::kNoExpr) {
            EvalContext c = ctx;
            c.current = se;
            c.candidate_step = UINT32_MAX;
            if (!eval.test(agg.filter, c)) return;
        }
        out.push_back(se);
    };
    if (agg.source == ir::AggSource::Scope) {
        if (ctx.scope)
            for (const EventPtr& p : *ctx.scope) consider(p.get());
    } else if (ctx.steps && agg.step < ctx.steps->size()) {
        for (const EventPtr& p : (*ctx.steps)[agg.step]) consider(p.get());
    }
    return out;
}

/// The elements' present values (`value` evaluated per element; the dwell for dwell_time).
std::vector<Value> values_of(const ir::Aggregate& agg, const std::vector<const StoredEvent*>& elems,
                             const EvalContext& ctx, ExprEvaluator& eval) {
    std::vector<Value> out;
    out.reserve(elems.size());
    for (const StoredEvent* se : elems) {
        Value v;
        if (agg.value == ir::kNoExpr) {
            v = agg.kind == AggKind::DwellTime ? se->dwell : Value::missing();
        } else {
            EvalContext c = ctx;
            c.current = se;
            c.candidate_step = UINT32_MAX;
            v = eval.eval(agg.value, c);
        }
        if (!v.is_missing()) out.push_back(v);
    }
    return out;
}

Value zero_of(Type t) {
    switch (t) {
    case Type::Float: return Value::real(0.0);
    case Type::Duration: return Value::duration(0);
    default: return Value::integer(0);
    }
}

Value sum(const std::vector<Value>& vs, Type result) {
    if (vs.empty()) return zero_of(result);
    bool any_float = result == Type::Float;
    for (const Value& v : vs) any_float = any_float || v.type == Type::Float;
    if (any_float) {
        double s = 0;
        for (const Value& v : vs) s += as_double(v);
        return Value::real(s);
    }
    Value acc = zero_of(vs.front().type == Type::Duration ? Type::Duration : Type::Int);
    for (const Value& v : vs) {
        Value x = v;
        x.type = acc.type; // ints and durations add as their µs / integer payloads
        acc = apply_arithmetic(ir::Op::Add, acc, x);
    }
    return acc;
}

Value average(const std::vector<Value>& vs) {
    if (vs.empty()) return Value::missing();
    double s = 0;
    for (const Value& v : vs) s += as_double(v);
    double mean = s / static_cast<double>(vs.size());
    Type t = vs.front().type;
    if (t == Type::Duration || t == Type::Timestamp) {
        Value r;
        r.type = t;
        r.i = std::llround(mean);
        return r;
    }
    return Value::real(mean);
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

Value entropy(const std::vector<Value>& vs) {
    if (vs.empty()) return Value::real(0.0);
    std::map<ValueKey, size_t> freq;
    for (const Value& v : vs) ++freq[key_of(v)];
    double n = static_cast<double>(vs.size()), h = 0;
    for (const auto& [k, c] : freq) {
        double p = static_cast<double>(c) / n;
        h -= p * std::log2(p);
    }
    return Value::real(h);
}

int64_t backtracks(const std::vector<Value>& vs) {
    std::set<ValueKey> seen;
    int64_t n = 0;
    for (size_t k = 0; k < vs.size(); ++k) {
        ValueKey key = key_of(vs[k]);
        if (k > 0 && !values_equal(vs[k], vs[k - 1]) && seen.count(key)) ++n;
        seen.insert(key);
    }
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
    std::vector<int64_t> gaps;
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

} // namespace

Value eval_aggregate(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval) {
    std::vector<const StoredEvent*> elems = elements(agg, ctx, eval);
    switch (agg.kind) {
    case AggKind::Count: return Value::integer(static_cast<int64_t>(elems.size()));
    case AggKind::Burstiness:
    case AggKind::GapMean:
    case AggKind::GapStd:
    case AggKind::GapMin:
    case AggKind::GapMax: return gap_feature(agg.kind, elems);
    default: break;
    }
    std::vector<Value> vs = values_of(agg, elems, ctx, eval);
    switch (agg.kind) {
    case AggKind::Sum: return sum(vs, agg.type);
    case AggKind::Avg: return average(vs);
    case AggKind::Min: return extreme(vs, false, eval.pool());
    case AggKind::Max: return extreme(vs, true, eval.pool());
    case AggKind::Distinct: {
        std::set<ValueKey> d;
        for (const Value& v : vs) d.insert(key_of(v));
        return Value::integer(static_cast<int64_t>(d.size()));
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

} // namespace ethogram::interp
