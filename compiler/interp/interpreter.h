// interpreter.h: the reference interpreter of the rule IR: the executable specification of
// docs/semantics.md that every other executor is checked against.
#pragma once

#include "compiler/ir/executor.h"

#include <memory>

namespace ethogram::interp {

/// Creates an interpreter for `rs`. `pool` must have been seeded with ir::seed_string_pool and must
/// outlive the executor; `rs` must outlive it too.
std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts = {});

struct NativeHooks;
/// The same state machinery with compiled expression code plugged in (compiler/jit): `native` must
/// outlive the executor and cover `rs` (NativeHooks::exprs indexed by ExprId, step_bit per rule).
std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts, const NativeHooks* native);
struct Coverage; // compiler/interp/coverage.h
/// Same, counting into `cov` (sized for `rs` with Coverage(rs); it must outlive the executor). The
/// detections are the same as without it (counting evaluates branches that short-circuiting may skip; the
/// only effect is that `lower()` there may intern a string earlier, which can reorder the output of
/// same-deadline timers of different keys, never change what is detected).
std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts, Coverage* cov);

} // namespace ethogram::interp
