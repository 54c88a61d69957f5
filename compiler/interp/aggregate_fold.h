// aggregate_fold.h: an aggregate's elements and their values, and its left fold over a long session's
// events (aggregate_fold.cpp). Internal header of aggregates.cpp and aggregate_fold.cpp.
#pragma once

#include "compiler/interp/expr_eval.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace ethogram::interp {

/// A value as an ordered key for distinct / entropy / backtracks (equal values, equal keys).
using ValueKey = std::pair<uint8_t, int64_t>;

inline ValueKey key_of(const ir::Value& v) {
    int64_t payload = 0;
    if (v.type == ir::Type::Bool) {
        payload = v.b ? 1 : 0;
    } else if (v.type == ir::Type::Float) {
        double f = v.f == 0.0 ? 0.0 : v.f; // -0.0 == 0.0
        std::memcpy(&payload, &f, sizeof payload);
    } else {
        payload = v.i;
    }
    return {static_cast<uint8_t>(v.type), payload};
}

/// Whether `se` is an element of `agg`: the right type and passing the filter.
inline bool is_element(const ir::Aggregate& agg, const StoredEvent* se, const EvalContext& ctx,
                       ExprEvaluator& eval) {
    if (!agg.types.empty()) {
        bool ok = false;
        for (uint16_t t : agg.types) ok = ok || t == se->ev.type;
        if (!ok) return false;
    }
    if (agg.filter != ir::kNoExpr) {
        EvalContext c = ctx;
        c.current = se;
        c.candidate_step = UINT32_MAX;
        if (!eval.test(agg.filter, c)) return false;
    }
    return true;
}

/// An element's value (`value` evaluated on it; the dwell for dwell_time).
inline ir::Value element_value(const ir::Aggregate& agg, const StoredEvent* se, const EvalContext& ctx,
                               ExprEvaluator& eval) {
    if (agg.value == ir::kNoExpr)
        return agg.kind == ir::AggKind::DwellTime ? se->dwell() : ir::Value::missing();
    EvalContext c = ctx;
    c.current = se;
    c.candidate_step = UINT32_MAX;
    return eval.eval(agg.value, c);
}

/// The sum of no values of type `t`.
inline ir::Value zero_of(ir::Type t) {
    switch (t) {
    case ir::Type::Float: return ir::Value::real(0.0);
    case ir::Type::Duration: return ir::Value::duration(0);
    default: return ir::Value::integer(0);
    }
}

/// `agg` (ExprEvaluator::foldable) over a session's events (ctx.scope, at least one) continued from fold
/// `f` when it still holds a prefix of them, else folded from the first event: what a rescan returns.
ir::Value fold_session(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval, Fold& f);

} // namespace ethogram::interp
