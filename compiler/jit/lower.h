// lower.h: the JIT's plan for a rule set (which expressions become native functions, which pattern step
// tests are precomputed per event) and the lowering of that plan to an LLVM module.
#pragma once

#include "compiler/ir/ir.h"
#include "compiler/jit/expected.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace ethogram::jit {

/// What gets compiled. Deterministic for a rule set: a warm start recomputes it and finds the same
/// symbols in the cached object.
struct Plan {
    /// Every root expression read as a value (emits, confidences, aggregate values): one native function
    /// each (NativeExprFn), sub-expressions inlined.
    std::vector<ir::ExprId> roots;
    /// Every root expression read as a predicate (step predicates, threshold conditions, session ends,
    /// aggregate filters): one native test function each (NativeTestFn, 0/1 without a Value).
    std::vector<ir::ExprId> tests;
    /// Per rule, per pattern step: the bit of its precomputed test, or interp::kNoBit.
    std::vector<std::vector<uint32_t>> step_bit;
    /// Per bit: its (rule, step).
    std::vector<std::pair<uint32_t, uint32_t>> bits;
    /// Per event type: whether a dispatch function exists (some step test can be precomputed).
    std::vector<bool> dispatch;

    /// A text that changes whenever the set of symbols or bits changes (part of the cache key).
    std::string fingerprint() const;
};

/// Empty when the JIT can compile every construct of `rs`; otherwise why not (for the fallback warning).
/// Expression kinds, operators or builtins the lowering does not know are rejected here, never guessed.
std::string unsupported_reason(const ir::RuleSet& rs);

Plan make_plan(const ir::RuleSet& rs);

/// Symbol names of the generated functions.
std::string expr_symbol(ir::ExprId id);
std::string test_symbol(ir::ExprId id);
std::string dispatch_symbol(uint32_t type);

/// Lowers `plan` to LLVM IR. Fails (never miscompiles) on a construct unsupported_reason() rejects.
Expected<std::unique_ptr<llvm::Module>> lower(const ir::RuleSet& rs, const Plan& plan,
                                              llvm::LLVMContext& ctx);

} // namespace ethogram::jit
