// oracle_eval.h: the oracle's own (naive) evaluator of IR expressions and aggregates.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::oracle {

/// Everything an expression may read. Unused parts stay null.
struct EvalCtx {
    const ir::RuleSet* rs = nullptr;
    const ir::Event* current = nullptr; ///< step candidate, aggregate element or threshold trigger
    const std::vector<std::vector<const ir::Event*>>* steps = nullptr; ///< pattern bindings per step
    const std::vector<const ir::Event*>* scope = nullptr;              ///< threshold scope, oldest first
    int64_t session_start = 0;
    int64_t session_last = 0;
    int64_t session_events = 0;
};

/// Evaluates expression `id`. Comparisons with a missing value are false.
ir::Value eval(const EvalCtx& ctx, ir::ExprId id);

/// True when `id` is kNoExpr or evaluates to boolean true.
bool holds(const EvalCtx& ctx, ir::ExprId id);

/// True when event `e` is of one of `types` and satisfies `pred` in `ctx` (with current = e).
bool satisfies(const EvalCtx& ctx, const std::vector<uint16_t>& types, ir::ExprId pred, const ir::Event& e);

/// The rule's `emit` values at detection time, rendered with render_value.
std::vector<std::string> emits(const ir::RuleSet& rs, uint32_t rule, const EvalCtx& ctx);

} // namespace ethogram::oracle
