// coverage.h: optional execution counters of the interpreter (`etho test --coverage`): per rule
// detections, per pattern step bindings, per threshold condition and top-level branch true/false.
#pragma once

#include "compiler/ir/ir.h"

#include <cstdint>
#include <vector>

namespace ethogram::interp {

class ExprEvaluator; // compiler/interp/expr_eval.h
struct EvalContext;

/// The top-level operands of a condition or predicate: the flattened `a and b and c` or `a or b or c`
/// (one entry, the whole expression, otherwise), each with how often it held and did not hold.
struct Branches {
    ir::Op op = ir::Op::None; ///< And, Or, or None
    std::vector<ir::ExprId> exprs;
    std::vector<uint64_t> held, failed;
};

/// Counters of one rule. Only the parts that apply to the rule's kind are used.
struct RuleCoverage {
    uint64_t detections = 0; ///< detections produced (emitted or suppressed)
    /// Pattern rules, per pattern step index: events bound (positive steps), partial matches killed
    /// (negations, and a trailing absence whose event arrived in time).
    std::vector<uint64_t> step_hits;
    /// Pattern rules, per pattern step index: the branches of the step's predicate, counted each time an
    /// event of one of the step's types is tested against it (empty for a step without predicate).
    std::vector<Branches> step_branches;
    /// Threshold rules: evaluations of the condition (per event, or at session end) and their outcome.
    uint64_t cond_true = 0, cond_false = 0;
    Branches cond; ///< threshold rules: the branches of the condition
};

/// The counters of one rule set. Passed to make_interpreter; when none is passed the interpreter does
/// no counting at all (one null test per hook).
struct Coverage {
    std::vector<RuleCoverage> rules;

    Coverage() = default;
    explicit Coverage(const ir::RuleSet& rs);
    /// Adds the counters of `o` (same rule set) to this one.
    void merge(const Coverage& o);
};

/// Evaluates each branch of `b` in `ctx` and counts the outcomes (only called when counting).
void count_branches(Branches& b, ExprEvaluator& eval, const EvalContext& ctx);

} // namespace ethogram::interp
