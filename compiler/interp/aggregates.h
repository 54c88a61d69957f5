// aggregates.h: aggregates and behavioural features (docs/language.md sections 4 and 7) over the
// elements of a threshold scope or a collected pattern step.
#pragma once

#include "compiler/interp/expr_eval.h"

namespace ethogram::interp {

/// Evaluates `agg`: its elements are the events of `ctx.scope` (AggSource::Scope) or of
/// `ctx.steps->step(agg.step)` (AggSource::Step), in time order, whose type is in `agg.types` (empty = any)
/// and that pass `agg.filter` (evaluated with the element as EventRef::Current). One linear scan per call.
ir::Value eval_aggregate(const ir::Aggregate& agg, const EvalContext& ctx, ExprEvaluator& eval);

} // namespace ethogram::interp
