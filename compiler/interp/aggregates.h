// aggregates.h: aggregates and behavioural features (docs/language.md sections 4 and 7) over the
// elements of a threshold scope or a collected pattern step.
#pragma once

#include "compiler/interp/expr_eval.h"

namespace ethogram::interp {

/// Evaluates `agg`: its elements are the events of `ctx.scope` (AggSource::Scope) or of
/// `ctx.steps->step(agg.step)` (AggSource::Step), in time order, whose type is in `agg.types` (empty = any)
/// and that pass `agg.filter` (evaluated with the element as EventRef::Current). One linear scan per call.
ir::Value eval_aggregate(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval);

/// Before a session's oldest event is dropped (its scope cap): takes the event out of the session's folds
/// where that is exact (count, distinct, entropy, sum, dwell_time and avg always, but a float leaving an
/// int-typed sum or a value of another type than avg's first; any kind when the event is not an element or
/// has no value; min and max when it is not the best), so that they go on; the others are folded again
/// from the first event at their next evaluation (aggregate_fold.cpp).
void fold_out_front(ExprEvaluator& eval, const SessionEvents& events);

} // namespace ethogram::interp
