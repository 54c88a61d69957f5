// coverage.h: optional execution counters of the interpreter (`etho test --coverage`): per rule
// detections, per pattern step bindings, per threshold condition and top-level branch true/false.
#pragma once

#include "compiler/ir/ir.h"

#include <cstdint>
#include <vector>

namespace ethogram::interp {

/// Counters of one rule. Only the parts that apply to the rule's kind are used.
struct RuleCoverage {
    uint64_t detections = 0; ///< detections produced (emitted or suppressed)
    /// Pattern rules, per pattern step index: events bound (positive steps), partial matches killed
    /// (negations, and a trailing absence whose event arrived in time).
    std::vector<uint64_t> step_hits;
    /// Threshold rules: evaluations of the condition (per event, or at session end) and their outcome.
    uint64_t cond_true = 0, cond_false = 0;
    /// The condition's top-level operands: the flattened `a and b and c` or `a or b or c` (one entry,
    /// the condition itself, otherwise), each with how often it held and did not hold when evaluated.
    ir::Op branch_op = ir::Op::None;
    std::vector<ir::ExprId> branches;
    std::vector<uint64_t> branch_true, branch_false;
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

} // namespace ethogram::interp
